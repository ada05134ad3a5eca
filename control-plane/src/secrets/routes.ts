import { PutSecretBody, Secret, SecretList, SecretParams } from '@switchboard/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../auth/auth-plugin.js';

const tags = ['secrets'];

/** Admins only: secrets are for agents' MCP servers, and nobody reads a value back. */
export const secretRoutes: FastifyPluginAsyncZod = async (app) => {
  const admin = app.requireRole('admin');

  app.put(
    '/secrets',
    {
      config: { audit: 'secret.set' },
      preHandler: admin,
      schema: {
        tags,
        summary: 'Create or replace a secret; the value is sealed in the vault and never shown again',
        body: PutSecretBody,
        response: { 200: Secret, 201: Secret },
      },
    },
    async (request, reply) => {
      const { secret, created } = await app.secrets.put(actorOf(request), request.body);
      return reply.status(created ? 201 : 200).send(secret);
    },
  );

  app.get(
    '/secrets',
    {
      preHandler: admin,
      schema: { tags, summary: 'Secrets: names, last four characters, who changed them when', response: { 200: SecretList } },
    },
    async () => ({ items: await app.secrets.list() }),
  );

  app.delete(
    '/secrets/:name',
    {
      config: { audit: 'secret.delete' },
      preHandler: admin,
      schema: {
        tags,
        summary: 'Delete a secret no live agent uses',
        params: SecretParams,
        response: { 200: z.object({ deleted: z.literal(true) }) },
      },
    },
    async (request) => {
      await app.secrets.remove(actorOf(request), request.params.name);
      return { deleted: true as const };
    },
  );
};
