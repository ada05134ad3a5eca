import type { CreateModelBody, CreateProviderBody, Model, Provider, UpdateModelBody, UpdateProviderBody } from '@switchboard/protocol';
import { type Actor, SYSTEM } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { Queryable, Sql } from '../db/client.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/errors.js';
import { AppError, conflict, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkOutbound, type OutboundRules } from '../net/outbound.js';
import { lastFour, type Vault } from '../vault/vault.js';
import { DEFAULT_BASE_URL, DEFAULT_MODELS } from './catalog.js';
import * as repo from './provider-repository.js';

export type ProviderService = ReturnType<typeof createProviderService>;

/** What the gateway needs to call a model: the model, its provider and the provider's key. */
export interface ResolvedModel {
  model: repo.ModelRow;
  provider: repo.ProviderRow;
  apiKey: string | null;
}

const CACHE_MS = 5_000;

export function createProviderService({
  sql,
  audit,
  vault,
  log,
  outbound,
}: {
  sql: Sql;
  audit: AuditService;
  vault: Vault;
  log: Logger;
  outbound: OutboundRules;
}) {
  let cache: { at: number; byName: Map<string, ResolvedModel> } | undefined;
  const invalidate = () => {
    cache = undefined;
  };

  async function loadCatalog(): Promise<Map<string, ResolvedModel>> {
    if (cache && Date.now() - cache.at < CACHE_MS) return cache.byName;
    const [models, providers] = await Promise.all([repo.listModels(sql), repo.listProviders(sql)]);
    const providerById = new Map(providers.map((provider) => [provider.id, provider]));
    const byName = new Map<string, ResolvedModel>();
    for (const model of models) {
      const provider = providerById.get(model.provider_id);
      if (!provider || !model.enabled) continue;
      const apiKey = provider.api_key_sealed ? vault.open(provider.api_key_sealed, provider.id) : null;
      byName.set(model.name, { model, provider, apiKey });
    }
    cache = { at: Date.now(), byName };
    return byName;
  }

  async function seedModels(tx: Queryable, provider: repo.ProviderRow): Promise<string[]> {
    const seeded: string[] = [];
    for (const model of DEFAULT_MODELS[provider.kind] ?? []) {
      const id = await repo.insertModel(tx, { ...model, providerId: provider.id, enabled: true });
      if (id) seeded.push(model.name);
    }
    return seeded;
  }

  async function createIn(
    tx: Queryable,
    actor: Actor,
    body: CreateProviderBody & { seedModels: boolean },
    action: 'provider.create' | 'vault.import',
  ) {
    const baseUrl = body.baseUrl ?? DEFAULT_BASE_URL[body.kind];
    if (!baseUrl)
      throw new AppError('BAD_REQUEST', 'An openai-compatible provider needs a baseUrl.', {
        issues: [{ path: 'baseUrl', message: 'Required' }],
      });
    await checkOutbound(baseUrl, outbound, 'The provider URL');
    let provider = await repo.insertProvider(tx, { name: body.name, kind: body.kind, baseUrl });
    if (body.apiKey) provider = await repo.setProviderKey(tx, provider.id, vault.seal(body.apiKey, provider.id), lastFour(body.apiKey));
    const seeded = body.seedModels ? await seedModels(tx, provider) : [];
    await audit.record(tx, actor, {
      action,
      target: { type: 'provider', id: provider.id },
      payload: { name: provider.name, kind: provider.kind, baseUrl, keyLast4: provider.api_key_last4, seededModels: seeded },
    });
    return provider;
  }

  return {
    resolve: async (name: string): Promise<ResolvedModel | undefined> => (await loadCatalog()).get(name),
    enabledModels: async (): Promise<ResolvedModel[]> => [...(await loadCatalog()).values()],
    invalidate,

    async create(actor: Actor, body: CreateProviderBody & { seedModels: boolean }): Promise<Provider> {
      try {
        const provider = await sql.begin((tx) => createIn(tx, actor, body, 'provider.create'));
        invalidate();
        return repo.toProvider(provider);
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`A provider named "${body.name}" already exists.`);
        throw error;
      }
    },

    async list(): Promise<Provider[]> {
      return (await repo.listProviders(sql)).map(repo.toProvider);
    },

    async get(id: string): Promise<Provider> {
      const row = await repo.getProvider(sql, id);
      if (!row) throw notFound('Provider');
      return repo.toProvider(row);
    },

    async update(actor: Actor, id: string, patch: UpdateProviderBody): Promise<Provider> {
      if (patch.baseUrl) await checkOutbound(patch.baseUrl, outbound, 'The provider URL');
      try {
        const row = await sql.begin(async (tx) => {
          const before = await repo.getProvider(tx, id, { lock: true });
          if (!before) throw notFound('Provider');
          let after = (await repo.updateProvider(tx, id, patch)) as repo.ProviderRow;
          // A key is sent to the host it was given for: pointing the provider elsewhere drops it unless a new one comes along.
          const moved = patch.baseUrl !== undefined && new URL(patch.baseUrl).host !== new URL(before.base_url).host;
          if (moved && patch.apiKey === undefined && before.api_key_sealed) after = await repo.setProviderKey(tx, id, null, null);
          if (patch.apiKey !== undefined) {
            after = await repo.setProviderKey(
              tx,
              id,
              patch.apiKey ? vault.seal(patch.apiKey, id) : null,
              patch.apiKey ? lastFour(patch.apiKey) : null,
            );
          }
          await audit.record(tx, actor, {
            action: 'provider.update',
            target: { type: 'provider', id },
            payload: {
              changes: {
                ...(patch.name && patch.name !== before.name ? { name: { from: before.name, to: after.name } } : {}),
                ...(patch.baseUrl && patch.baseUrl !== before.base_url ? { baseUrl: { from: before.base_url, to: after.base_url } } : {}),
              },
              keyChanged: patch.apiKey !== undefined || after.api_key_sealed !== before.api_key_sealed,
              keyLast4: after.api_key_last4,
            },
          });
          return after;
        });
        invalidate();
        return repo.toProvider(row);
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`A provider named "${patch.name}" already exists.`);
        throw error;
      }
    },

    async remove(actor: Actor, id: string): Promise<void> {
      await sql.begin(async (tx) => {
        const row = await repo.getProvider(tx, id, { lock: true });
        if (!row) throw notFound('Provider');
        const models = await repo.countModelsOf(tx, id);
        if (models > 0) throw conflict(`${models} model(s) still use this provider. Delete them or point them at another provider first.`);
        await repo.deleteProvider(tx, id);
        await audit.record(tx, actor, {
          action: 'provider.delete',
          target: { type: 'provider', id },
          payload: { name: row.name, kind: row.kind },
        });
      });
      invalidate();
    },

    async listModels(): Promise<Model[]> {
      return (await repo.listModels(sql)).map(repo.toModel);
    },

    async createModel(actor: Actor, body: CreateModelBody & { enabled: boolean }): Promise<Model> {
      try {
        const id = await sql.begin(async (tx) => {
          const provider = await repo.getProvider(tx, body.providerId);
          if (!provider) throw notFound('Provider');
          const created = await repo.insertModel(tx, body);
          if (!created) throw conflict(`A model named "${body.name}" already exists.`);
          await audit.record(tx, actor, { action: 'model.create', target: { type: 'model', id: created }, payload: body });
          return created;
        });
        invalidate();
        return repo.toModel((await repo.getModel(sql, id)) as repo.ModelRow);
      } catch (error) {
        if (isForeignKeyViolation(error)) throw notFound('Provider');
        throw error;
      }
    },

    async updateModel(actor: Actor, id: string, patch: UpdateModelBody): Promise<Model> {
      await sql.begin(async (tx) => {
        if (!(await repo.updateModel(tx, id, patch))) throw notFound('Model');
        await audit.record(tx, actor, { action: 'model.update', target: { type: 'model', id }, payload: patch });
      });
      invalidate();
      return repo.toModel((await repo.getModel(sql, id)) as repo.ModelRow);
    },

    async removeModel(actor: Actor, id: string): Promise<void> {
      await sql.begin(async (tx) => {
        const model = await repo.getModel(tx, id);
        if (!model) throw notFound('Model');
        await repo.deleteModel(tx, id);
        await audit.record(tx, actor, { action: 'model.delete', target: { type: 'model', id }, payload: { name: model.name } });
      });
      invalidate();
    },

    /**
     * Imports ANTHROPIC_API_KEY / OPENAI_API_KEY once: a variable already imported (even if the
     * provider was deleted since) is not imported again.
     */
    async importEnvironmentKeys(keys: { anthropic?: string | undefined; openai?: string | undefined }): Promise<string[]> {
      const imported: string[] = [];
      for (const [kind, variable] of [
        ['anthropic', 'ANTHROPIC_API_KEY'],
        ['openai', 'OPENAI_API_KEY'],
      ] as const) {
        const apiKey = keys[kind];
        if (!apiKey) continue;
        const done = await sql.begin(async (tx) => {
          const claimed = await tx`insert into vault_imports (variable) values (${variable}) on conflict do nothing returning 1`;
          if (claimed.count === 0) return false;
          const name = (await repo.findProviderByName(tx, kind)) ? `${kind}-env` : kind;
          const provider = await createIn(tx, SYSTEM, { name, kind, apiKey, seedModels: true }, 'vault.import');
          await tx`update vault_imports set provider_id = ${provider.id} where variable = ${variable}`;
          return true;
        });
        if (done) {
          imported.push(variable);
          log.info({ variable }, 'provider key imported into the vault');
        }
      }
      if (imported.length > 0) invalidate();
      return imported;
    },
  };
}
