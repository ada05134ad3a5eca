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

const tags = ['audit'];
const date = (value: string | undefined) => (value ? new Date(value) : undefined);

export const auditRoutes: FastifyPluginAsyncZod = async (app) => {
  const readers = app.requireRole('admin', 'viewer');

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
      schema: { tags, summary: 'Recompute the hash chain and report the first bad row', response: { 200: AuditVerifyResult } },
    },
    async () => app.audit.verify(),
  );

  app.post(
    '/audit/retention',
    {
      config: { audit: 'audit.retention' },
      preHandler: app.requireRole('admin'),
      schema: {
        tags,
        summary: 'Remove audit rows older than a time, keeping the chain verifiable',
        body: AuditRetentionBody,
        response: { 200: AuditRetentionResult },
      },
    },
    async (request) => {
      const result = await app.audit.retain(actorOf(request), new Date(request.body.before));
      return { deleted: result.deleted, throughId: result.throughId?.toString() ?? null };
    },
  );
};
