import path from 'node:path';
import {
  AuditExportQuery,
  AuditPage,
  AuditQuery,
  AuditRetentionBody,
  AuditRetentionResult,
  AuditVerifyResult,
} from '@switchboard/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actorOf } from '../auth/auth-plugin.js';
import { loadMasterKey } from '../vault/vault.js';
import { anchorKey, createAnchorStore } from './anchor.js';
import { createAuditIntegrity } from './integrity-service.js';

const tags = ['audit'];
const date = (value: string | undefined) => (value ? new Date(value) : undefined);

export const auditRoutes: FastifyPluginAsyncZod = async (app) => {
  const readers = app.requireRole('admin', 'viewer');
  const { config } = app;
  // The anchor key comes from the master key the vault already loaded (env or key file): the same key, read again.
  const anchors = createAnchorStore({
    file: path.join(config.dataDir, 'audit-anchor.json'),
    key: anchorKey(await loadMasterKey(config.masterKey, config.dataDir)),
  });
  const integrity = createAuditIntegrity({ sql: app.sql, log: app.log, anchors, minRetentionDays: config.auditMinRetentionDays });
  let exporting: Promise<unknown> = Promise.resolve();
  const exportAnchor = () => {
    exporting = integrity
      .advance()
      .then((result) => {
        if (!result.ok)
          app.log.error({ reason: result.reason, firstBadId: result.firstBadId }, 'the audit trail does not verify against its anchor');
      })
      .catch((error: unknown) => app.log.error({ err: error }, 'could not check and export the audit anchor'));
  };
  const timer = setInterval(exportAnchor, config.auditAnchorIntervalS * 1000);
  timer.unref();
  // Not awaited: the first check after an upgrade reads the whole trail, and start-up need not wait for it.
  app.addHook('onReady', async () => exportAnchor());
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await exporting;
  });

  app.get(
    '/audit',
    {
      preHandler: readers,
      schema: { tags, summary: 'Query the audit trail, newest first', querystring: AuditQuery, response: { 200: AuditPage } },
    },
    async (request) => {
      const { limit, cursor, from, to, ...rest } = request.query;
      return app.audit.query({ ...rest, from: date(from), to: date(to), beforeId: cursor ? BigInt(cursor) : undefined }, limit);
    },
  );

  app.get(
    '/audit/export',
    {
      preHandler: readers,
      schema: { tags, summary: 'Stream a range of the audit trail as JSON Lines, oldest first', querystring: AuditExportQuery },
    },
    async (request, reply) => {
      const { from, to, ...rest } = request.query;
      await app.audit.recordAlone(actorOf(request), { action: 'audit.export', payload: request.query });
      reply.header('content-type', 'application/x-ndjson; charset=utf-8');
      reply.header('content-disposition', 'attachment; filename="audit.jsonl"');
      return reply.send(app.audit.exportLines({ ...rest, from: date(from), to: date(to) }));
    },
  );

  app.get(
    '/audit/verify',
    {
      preHandler: readers,
      schema: {
        tags,
        summary: 'Recompute the hash chain, check it against the signed anchor, and report the first bad row',
        response: { 200: AuditVerifyResult },
      },
    },
    async () => integrity.verify(),
  );

  app.post(
    '/audit/retention',
    {
      config: { audit: 'audit.retention' },
      preHandler: app.requireRole('admin'),
      schema: {
        tags,
        summary: 'Remove audit rows older than a time (at least the minimum retention age), keeping the chain verifiable',
        body: AuditRetentionBody,
        response: { 200: AuditRetentionResult },
      },
    },
    async (request) => {
      const result = await integrity.retain(actorOf(request), new Date(request.body.before));
      return { deleted: result.deleted, throughId: result.throughId?.toString() ?? null };
    },
  );
};
