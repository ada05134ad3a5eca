import {
  ApprovalPolicyBody,
  ApprovalPolicyResult,
  CreateUploadBody,
  IdParams,
  Session,
  SessionEventPage,
  SessionEventsQuery,
  SessionList,
  SessionListQuery,
  Upload,
} from '@switchboard/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../auth/auth-plugin.js';
import { notFound } from '../errors.js';
import { DEFAULT_POLICY } from './policy.js';

const tags = ['sessions'];

export const sessionRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/sessions',
    {
      schema: {
        tags,
        summary: 'Sessions: your own and your teams’ (admins: everyone’s, or one user’s)',
        querystring: SessionListQuery,
        response: { 200: SessionList },
      },
    },
    async (request) => ({
      items: await app.sessions.list(request.auth, {
        includeArchived: request.query.includeArchived ?? false,
        includeTeam: true,
        userId: request.query.userId,
        limit: request.query.limit,
      }),
    }),
  );

  app.get('/sessions/:id', { schema: { tags, summary: 'One session', params: IdParams, response: { 200: Session } } }, async (request) =>
    app.sessions.get(request.auth, request.params.id),
  );

  app.get(
    '/sessions/:id/events',
    {
      schema: {
        tags,
        summary: 'A session’s transcript: stored events after `sinceSeq`, oldest first',
        params: IdParams,
        querystring: SessionEventsQuery,
        response: { 200: SessionEventPage },
      },
    },
    async (request) => {
      const session = await app.sessions.get(request.auth, request.params.id);
      const items = await app.sessionEvents.backlog(app.sql, session.id, request.query.sinceSeq, request.query.limit + 1);
      return { items: items.slice(0, request.query.limit), lastSeq: session.lastSeq, more: items.length > request.query.limit };
    },
  );

  app.post(
    '/sessions/:id/abort',
    {
      config: { audit: 'session.abort' },
      schema: { tags, summary: 'Abort the running turn', params: IdParams, response: { 200: z.object({ aborted: z.boolean() }) } },
    },
    async (request) => app.sessions.abort(request.auth, actorOf(request), request.params.id),
  );

  app.post(
    '/uploads',
    {
      config: { audit: 'upload.create' },
      bodyLimit: Math.ceil(app.config.uploadLimitBytes * 1.4) + 1024 * 1024,
      schema: {
        tags,
        summary: 'Upload files (base64) to seed a new session’s workspace; use the id in session/create within an hour',
        body: CreateUploadBody,
        response: { 201: Upload },
      },
    },
    async (request, reply) => reply.status(201).send(await app.uploads.create(request.auth.user.id, actorOf(request), request.body)),
  );

  app.get(
    '/teams/:id/approval-policy',
    {
      schema: {
        tags: ['approvals'],
        summary: 'The team’s default approval policy for new sessions',
        params: IdParams,
        response: { 200: ApprovalPolicyResult },
      },
    },
    async (request) => {
      await app.teams.get(request.auth, request.params.id);
      const [row] = await app.sql<
        { approval_policy: z.infer<typeof ApprovalPolicyBody>['policy'] }[]
      >`select approval_policy from teams where id = ${request.params.id}`;
      return { teamId: request.params.id, policy: row?.approval_policy ?? null, effective: row?.approval_policy ?? DEFAULT_POLICY };
    },
  );

  app.put(
    '/teams/:id/approval-policy',
    {
      config: { audit: 'team.policy' },
      preHandler: app.requireRole('admin'),
      schema: {
        tags: ['approvals'],
        summary: 'Set the team’s default approval policy (null restores the built-in one)',
        params: IdParams,
        body: ApprovalPolicyBody,
        response: { 200: ApprovalPolicyResult },
      },
    },
    async (request) => {
      const { policy } = request.body;
      const updated = await app.sql.begin(async (tx) => {
        const rows =
          await tx`update teams set approval_policy = ${policy ? tx.json(policy) : null} where id = ${request.params.id} returning id`;
        if (rows.count === 0) throw notFound('Team');
        await app.audit.record(tx, actorOf(request), {
          action: 'team.policy',
          target: { type: 'team', id: request.params.id },
          payload: { policy },
        });
        return rows.count;
      });
      return { teamId: request.params.id, policy: updated ? policy : null, effective: policy ?? DEFAULT_POLICY };
    },
  );
};
