import { IdParams, MemoryList, MemoryNote, MemoryParams, MemoryQuery, PutMemoryBody } from '@switchboard/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../auth/auth-plugin.js';

const tags = ['memory'];

/** A user's notes of an agent (admins: anyone's with `?userId=`), the same notes the agent reads and writes. */
export const memoryRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/agents/:id/memory',
    {
      schema: {
        tags,
        summary: 'Your notes of this agent, with the size limits',
        params: IdParams,
        querystring: MemoryQuery,
        response: { 200: MemoryList },
      },
    },
    async (request) => app.memory.list(request.auth, request.params.id, request.query.userId),
  );

  app.get(
    '/agents/:id/memory/:key',
    { schema: { tags, summary: 'One note', params: MemoryParams, querystring: MemoryQuery, response: { 200: MemoryNote } } },
    async (request) => app.memory.read(request.auth, request.params.id, request.params.key, request.query.userId),
  );

  app.put(
    '/agents/:id/memory/:key',
    {
      config: { audit: 'memory.write' },
      schema: {
        tags,
        summary: 'Write a note (413 above the per-note or total limit)',
        params: MemoryParams,
        querystring: MemoryQuery,
        body: PutMemoryBody,
        response: { 200: MemoryNote },
      },
    },
    async (request) =>
      app.memory.put(request.auth, actorOf(request), request.params.id, request.params.key, request.body.content, request.query.userId),
  );

  app.delete(
    '/agents/:id/memory/:key',
    {
      config: { audit: 'memory.delete' },
      schema: {
        tags,
        summary: 'Delete a note',
        params: MemoryParams,
        querystring: MemoryQuery,
        response: { 200: z.object({ deleted: z.literal(true) }) },
      },
    },
    async (request) => {
      await app.memory.remove(request.auth, actorOf(request), request.params.id, request.params.key, request.query.userId);
      return { deleted: true as const };
    },
  );
};
