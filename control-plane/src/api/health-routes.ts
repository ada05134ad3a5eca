import { Health, Readiness } from '@switchboard/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { VERSION } from '../version.js';

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is up', response: { 200: Health } } }, async () => ({
    status: 'ok' as const,
    version: VERSION,
  }));

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'The database answers and the agent runtime takes sessions',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const started = performance.now();
      const ok = await Promise.race([
        app.sql`select 1`.then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((resolve) => setTimeout(resolve, 2000, false).unref()),
      ]);
      const database = { ok, latencyMs: Math.round(performance.now() - started) };
      const state = app.harness?.health().state ?? 'off';
      const harness = { ok: state === 'running' || state === 'off', detail: state };
      const ready = database.ok && harness.ok;
      const body = { status: ready ? ('ready' as const) : ('not_ready' as const), checks: { database, harness } };
      return reply.status(ready ? 200 : 503).send(body);
    },
  );
};
