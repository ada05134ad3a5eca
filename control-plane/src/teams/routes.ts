import { AddMemberBody, CreateTeamBody, IdParams, Team, TeamList, TeamMemberParams } from '@switchboard/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actorOf } from '../auth/auth-plugin.js';

const tags = ['teams'];

export const teamRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/teams',
    {
      config: { audit: 'team.create' },
      preHandler: app.requireRole('admin'),
      schema: { tags, summary: 'Create a team', body: CreateTeamBody, response: { 201: Team } },
    },
    async (request, reply) => reply.status(201).send(await app.teams.create(actorOf(request), request.body.name)),
  );

  app.get('/teams', { schema: { tags, summary: 'List teams (members: their own)', response: { 200: TeamList } } }, async (request) => ({
    items: await app.teams.list(request.auth),
  }));

  app.get(
    '/teams/:id',
    { schema: { tags, summary: 'Get a team with its members', params: IdParams, response: { 200: Team } } },
    async (request) => app.teams.get(request.auth, request.params.id),
  );

  app.post(
    '/teams/:id/members',
    {
      config: { audit: 'team.member.add' },
      preHandler: app.requireRole('admin'),
      schema: { tags, summary: 'Add a member', params: IdParams, body: AddMemberBody, response: { 200: Team } },
    },
    async (request) => app.teams.addMember(actorOf(request), request.params.id, request.body.userId),
  );

  app.delete(
    '/teams/:id/members/:userId',
    {
      config: { audit: 'team.member.remove' },
      preHandler: app.requireRole('admin'),
      schema: { tags, summary: 'Remove a member', params: TeamMemberParams, response: { 200: Team } },
    },
    async (request) => app.teams.removeMember(actorOf(request), request.params.id, request.params.userId),
  );
};
