import { Agent, AgentList, AgentQuery, AgentVersionList, CreateAgentBody, IdParams, UpdateAgentBody } from '@switchboard/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actorOf } from '../auth/auth-plugin.js';

const tags = ['agents'];

/** Admins define agents; everyone reads the agents visible to them (shared with all, or with one of their teams). */
export const agentRoutes: FastifyPluginAsyncZod = async (app) => {
  const admin = app.requireRole('admin');

  app.post(
    '/agents',
    {
      config: { audit: 'agent.create' },
      preHandler: admin,
      schema: { tags, summary: 'Define an agent (version 1)', body: CreateAgentBody, response: { 201: Agent } },
    },
    async (request, reply) => reply.status(201).send(await app.agents.create(actorOf(request), request.body)),
  );

  app.get('/agents', { schema: { tags, summary: 'Live agents you can see', response: { 200: AgentList } } }, async (request) => ({
    items: await app.agents.list(request.auth),
  }));

  app.get(
    '/agents/:id',
    {
      schema: {
        tags,
        summary: 'An agent at its current (or a given) version',
        params: IdParams,
        querystring: AgentQuery,
        response: { 200: Agent },
      },
    },
    async (request) => app.agents.get(request.auth, request.params.id, request.query.version),
  );

  app.get(
    '/agents/:id/versions',
    { schema: { tags, summary: 'The versions of an agent, newest first', params: IdParams, response: { 200: AgentVersionList } } },
    async (request) => ({ items: await app.agents.versions(request.auth, request.params.id) }),
  );

  app.patch(
    '/agents/:id',
    {
      config: { audit: 'agent.update' },
      preHandler: admin,
      schema: {
        tags,
        summary: 'Change an agent: a changed definition becomes a new version; running sessions keep theirs',
        params: IdParams,
        body: UpdateAgentBody,
        response: { 200: Agent },
      },
    },
    async (request) => app.agents.update(actorOf(request), request.params.id, request.body),
  );

  app.delete(
    '/agents/:id',
    {
      config: { audit: 'agent.archive' },
      preHandler: admin,
      schema: {
        tags,
        summary: 'Archive an agent: no new sessions; existing ones and notes stay',
        params: IdParams,
        response: { 200: Agent },
      },
    },
    async (request) => app.agents.archive(actorOf(request), request.params.id),
  );
};
