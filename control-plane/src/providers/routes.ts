import {
  CreateModelBody,
  CreateProviderBody,
  IdParams,
  Model,
  ModelList,
  Provider,
  ProviderList,
  UpdateModelBody,
  UpdateProviderBody,
} from '@switchboard/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../auth/auth-plugin.js';

const Deleted = z.object({ deleted: z.literal(true) });

export const providerRoutes: FastifyPluginAsyncZod = async (app) => {
  const admin = app.requireRole('admin');
  const readers = app.requireRole('admin', 'viewer');
  const tags = ['providers'];

  app.post(
    '/providers',
    {
      config: { audit: 'provider.create' },
      preHandler: admin,
      schema: { tags, summary: 'Add a provider; its key is sealed in the vault', body: CreateProviderBody, response: { 201: Provider } },
    },
    async (request, reply) => reply.status(201).send(await app.providers.create(actorOf(request), request.body)),
  );
  app.get(
    '/providers',
    {
      preHandler: readers,
      schema: { tags, summary: 'List providers (keys show only their last four characters)', response: { 200: ProviderList } },
    },
    async () => ({
      items: await app.providers.list(),
    }),
  );
  app.get(
    '/providers/:id',
    { preHandler: readers, schema: { tags, summary: 'Get a provider', params: IdParams, response: { 200: Provider } } },
    async (request) => app.providers.get(request.params.id),
  );
  app.patch(
    '/providers/:id',
    {
      config: { audit: 'provider.update' },
      preHandler: admin,
      schema: {
        tags,
        summary: 'Rename, move or re-key a provider (apiKey null removes the key)',
        params: IdParams,
        body: UpdateProviderBody,
        response: { 200: Provider },
      },
    },
    async (request) => app.providers.update(actorOf(request), request.params.id, request.body),
  );
  app.delete(
    '/providers/:id',
    {
      config: { audit: 'provider.delete' },
      preHandler: admin,
      schema: { tags, summary: 'Delete a provider no model uses', params: IdParams, response: { 200: Deleted } },
    },
    async (request) => {
      await app.providers.remove(actorOf(request), request.params.id);
      return { deleted: true as const };
    },
  );

  const modelTags = ['models'];
  app.get(
    '/models',
    {
      schema: {
        tags: modelTags,
        summary: 'Models, their providers and prices (micro-dollars per million tokens)',
        response: { 200: ModelList },
      },
    },
    async () => ({
      items: await app.providers.listModels(),
    }),
  );
  app.post(
    '/models',
    {
      config: { audit: 'model.create' },
      preHandler: admin,
      schema: { tags: modelTags, summary: 'Offer a model', body: CreateModelBody, response: { 201: Model } },
    },
    async (request, reply) => reply.status(201).send(await app.providers.createModel(actorOf(request), request.body)),
  );
  app.patch(
    '/models/:id',
    {
      config: { audit: 'model.update' },
      preHandler: admin,
      schema: {
        tags: modelTags,
        summary: 'Change limits, prices or availability',
        params: IdParams,
        body: UpdateModelBody,
        response: { 200: Model },
      },
    },
    async (request) => app.providers.updateModel(actorOf(request), request.params.id, request.body),
  );
  app.delete(
    '/models/:id',
    {
      config: { audit: 'model.delete' },
      preHandler: admin,
      schema: { tags: modelTags, summary: 'Stop offering a model', params: IdParams, response: { 200: Deleted } },
    },
    async (request) => {
      await app.providers.removeModel(actorOf(request), request.params.id);
      return { deleted: true as const };
    },
  );
};
