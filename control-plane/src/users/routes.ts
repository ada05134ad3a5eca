import { CreateUserBody, IdParams, ListUsersQuery, UpdateUserBody, User, UserPage } from '@switchboard/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actorOf } from '../auth/auth-plugin.js';
import { forbidden } from '../errors.js';

const tags = ['users'];

export const userRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/users',
    {
      config: { audit: 'user.create' },
      preHandler: app.requireRole('admin'),
      schema: { tags, summary: 'Create a user', body: CreateUserBody, response: { 201: User } },
    },
    async (request, reply) => reply.status(201).send(await app.users.create(actorOf(request), request.body)),
  );

  app.get(
    '/users',
    {
      preHandler: app.requireRole('admin', 'viewer'),
      schema: { tags, summary: 'List users', querystring: ListUsersQuery, response: { 200: UserPage } },
    },
    async (request) => app.users.list(request.query),
  );

  app.get('/users/:id', { schema: { tags, summary: 'Get a user', params: IdParams, response: { 200: User } } }, async (request) => {
    const { user } = request.auth;
    if (user.role === 'member' && user.id !== request.params.id) throw forbidden('Members can read only their own user. Ask an admin.');
    return app.users.get(request.params.id);
  });

  app.patch(
    '/users/:id',
    {
      config: { audit: 'user.update' },
      preHandler: app.requireRole('admin'),
      schema: {
        tags,
        summary: 'Change display name, role or disabled flag',
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: User },
      },
    },
    async (request) => app.users.update(actorOf(request), request.params.id, request.body),
  );
};
