import { ApiToken, CreatedToken, CreateTokenBody, IdParams, ListTokensQuery, Me, TokenList } from '@switchboard/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { teamsOfUser } from '../teams/team-repository.js';
import { actorOf } from './auth-plugin.js';

const tags = ['tokens'];

export const tokenRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/me', { schema: { tags: ['me'], summary: 'Who this token belongs to', response: { 200: Me } } }, async (request) => ({
    user: request.auth.user,
    tokenId: request.auth.tokenId,
    teams: await teamsOfUser(app.sql, request.auth.user.id),
  }));

  app.post(
    '/tokens',
    {
      config: { audit: 'token.create' },
      schema: {
        tags,
        summary: 'Create an API token (for yourself, or as admin for `userId`); the secret is in this response only',
        body: CreateTokenBody,
        response: { 201: CreatedToken },
      },
    },
    async (request, reply) => reply.status(201).send(await app.tokens.create(request.auth, actorOf(request), request.body)),
  );

  app.get(
    '/tokens',
    {
      schema: {
        tags,
        summary: 'List your tokens (admins and viewers: `userId` for another user)',
        querystring: ListTokensQuery,
        response: { 200: TokenList },
      },
    },
    async (request) => ({ items: await app.tokens.list(request.auth, request.query.userId, request.query.includeRevoked ?? false) }),
  );

  app.delete(
    '/tokens/:id',
    { config: { audit: 'token.revoke' }, schema: { tags, summary: 'Revoke a token', params: IdParams, response: { 200: ApiToken } } },
    async (request) => app.tokens.revoke(request.auth, actorOf(request), request.params.id),
  );
};
