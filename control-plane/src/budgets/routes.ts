import { BudgetList, BudgetParams, Budget as BudgetSchema, IdParams, SetBudgetBody, Spend, SpendQuery } from '@switchboard/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../auth/auth-plugin.js';
import { forbidden } from '../errors.js';

const Deleted = z.object({ deleted: z.literal(true) });
const tags = ['budgets'];

export const budgetRoutes: FastifyPluginAsyncZod = async (app) => {
  const admin = app.requireRole('admin');
  /** Members see their own budgets and spend; admins and viewers see everyone's. */
  const selfOrReader = (request: { auth: { user: { id: string; role: string } } }, userId: string) => {
    const { user } = request.auth;
    if (user.role === 'member' && user.id !== userId) throw forbidden('Members can see only their own budgets and spend.');
  };

  app.get(
    '/users/:id/budgets',
    {
      schema: {
        tags,
        summary: 'Budgets that hold this user’s calls: their own and their teams’',
        params: IdParams,
        response: { 200: BudgetList },
      },
    },
    async (request) => {
      selfOrReader(request, request.params.id);
      await app.users.get(request.params.id);
      return { items: await app.budgets.applicableTo(request.params.id) };
    },
  );
  app.put(
    '/users/:id/budgets/:period',
    {
      config: { audit: 'budget.set' },
      preHandler: admin,
      schema: {
        tags,
        summary: 'Set a user’s budget for a period',
        params: BudgetParams,
        body: SetBudgetBody,
        response: { 200: BudgetSchema },
      },
    },
    async (request) => app.budgets.set(actorOf(request), { userId: request.params.id }, request.params.period, request.body),
  );
  app.delete(
    '/users/:id/budgets/:period',
    {
      config: { audit: 'budget.delete' },
      preHandler: admin,
      schema: { tags, summary: 'Remove a user’s budget', params: BudgetParams, response: { 200: Deleted } },
    },
    async (request) => {
      await app.budgets.remove(actorOf(request), { userId: request.params.id }, request.params.period);
      return { deleted: true as const };
    },
  );
  app.get(
    '/users/:id/spend',
    {
      schema: {
        tags,
        summary: 'Spend in the current period, per model, with the budgets',
        params: IdParams,
        querystring: SpendQuery,
        response: { 200: Spend },
      },
    },
    async (request) => {
      selfOrReader(request, request.params.id);
      await app.users.get(request.params.id);
      return app.budgets.spend(request.params.id, request.query.period);
    },
  );

  app.get(
    '/teams/:id/budgets',
    { schema: { tags, summary: 'A team’s budgets', params: IdParams, response: { 200: BudgetList } } },
    async (request) => {
      await app.teams.get(request.auth, request.params.id);
      return { items: await app.budgets.list({ teamId: request.params.id }) };
    },
  );
  app.put(
    '/teams/:id/budgets/:period',
    {
      config: { audit: 'budget.set' },
      preHandler: admin,
      schema: {
        tags,
        summary: 'Set a team’s budget for a period',
        params: BudgetParams,
        body: SetBudgetBody,
        response: { 200: BudgetSchema },
      },
    },
    async (request) => app.budgets.set(actorOf(request), { teamId: request.params.id }, request.params.period, request.body),
  );
  app.delete(
    '/teams/:id/budgets/:period',
    {
      config: { audit: 'budget.delete' },
      preHandler: admin,
      schema: { tags, summary: 'Remove a team’s budget', params: BudgetParams, response: { 200: Deleted } },
    },
    async (request) => {
      await app.budgets.remove(actorOf(request), { teamId: request.params.id }, request.params.period);
      return { deleted: true as const };
    },
  );
};
