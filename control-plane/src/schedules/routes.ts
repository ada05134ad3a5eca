import {
  CreateScheduleBody,
  IdParams,
  Schedule,
  ScheduleList,
  ScheduleListQuery,
  ScheduleRun,
  ScheduleRunPage,
  ScheduleRunsQuery,
  UpdateScheduleBody,
} from '@switchboard/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../auth/auth-plugin.js';

const tags = ['schedules'];

export const scheduleRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/schedules',
    {
      config: { audit: 'schedule.create' },
      schema: {
        tags,
        summary: 'Schedule an agent run on a cron (members: for themselves; admins: for anyone with `ownerId`)',
        body: CreateScheduleBody,
        response: { 201: Schedule },
      },
    },
    async (request, reply) => reply.status(201).send(await app.schedules.create(request.auth, actorOf(request), request.body)),
  );

  app.get(
    '/schedules',
    {
      schema: {
        tags,
        summary: 'Schedules with their last run (members: their own; admins and viewers: everyone’s, or one owner’s)',
        querystring: ScheduleListQuery,
        response: { 200: ScheduleList },
      },
    },
    async (request) => ({ items: await app.schedules.list(request.auth, request.query) }),
  );

  app.get('/schedules/:id', { schema: { tags, summary: 'One schedule', params: IdParams, response: { 200: Schedule } } }, async (request) =>
    app.schedules.get(request.auth, request.params.id),
  );

  app.patch(
    '/schedules/:id',
    {
      config: { audit: 'schedule.update' },
      schema: {
        tags,
        summary: 'Change a schedule; a new cron, time zone or `enabled` recomputes the next slot from now',
        params: IdParams,
        body: UpdateScheduleBody,
        response: { 200: Schedule },
      },
    },
    async (request) => app.schedules.update(request.auth, actorOf(request), request.params.id, request.body),
  );

  app.delete(
    '/schedules/:id',
    {
      config: { audit: 'schedule.delete' },
      schema: {
        tags,
        summary: 'Delete a schedule and its run history (the runs’ sessions stay)',
        params: IdParams,
        response: { 200: z.object({ deleted: z.literal(true) }) },
      },
    },
    async (request) => {
      await app.schedules.remove(request.auth, actorOf(request), request.params.id);
      return { deleted: true as const };
    },
  );

  app.get(
    '/schedules/:id/runs',
    {
      schema: {
        tags,
        summary: 'Runs of a schedule, newest slot first; pass `nextCursor` back as `cursor`',
        params: IdParams,
        querystring: ScheduleRunsQuery,
        response: { 200: ScheduleRunPage },
      },
    },
    async (request) => app.schedules.runs(request.auth, request.params.id, request.query),
  );

  app.post(
    '/schedules/:id/run',
    {
      config: { audit: 'schedule.trigger' },
      schema: {
        tags,
        summary: 'Run now, under the same rules as a slot (budget, no overlap); answers once the session is prompted or the run refused',
        params: IdParams,
        response: { 202: ScheduleRun },
      },
    },
    async (request, reply) => reply.status(202).send(await app.scheduleRunner.runNow(request.auth, actorOf(request), request.params.id)),
  );
};
