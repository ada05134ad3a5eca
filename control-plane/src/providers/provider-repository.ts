import type { CreateModelBody, Model, Provider, ProviderKind, UpdateModelBody } from '@switchboard/protocol';
import type { Queryable } from '../db/client.js';

export interface ProviderRow {
  id: string;
  name: string;
  kind: ProviderKind;
  base_url: string;
  api_key_sealed: string | null;
  api_key_last4: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ModelRow {
  id: string;
  name: string;
  provider_id: string;
  provider_kind: ProviderKind;
  upstream_model: string;
  context_limit: number;
  output_limit: number;
  price_input: bigint;
  price_output: bigint;
  price_cache_read: bigint;
  price_cache_write: bigint;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export function toProvider(row: ProviderRow): Provider {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    baseUrl: row.base_url,
    keyLast4: row.api_key_last4,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function toModel(row: ModelRow): Model {
  return {
    id: row.id,
    name: row.name,
    providerId: row.provider_id,
    providerKind: row.provider_kind,
    upstreamModel: row.upstream_model,
    contextLimit: row.context_limit,
    outputLimit: row.output_limit,
    prices: {
      input: Number(row.price_input),
      output: Number(row.price_output),
      cacheRead: Number(row.price_cache_read),
      cacheWrite: Number(row.price_cache_write),
    },
    enabled: row.enabled,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function insertProvider(
  sql: Queryable,
  provider: { name: string; kind: ProviderKind; baseUrl: string },
): Promise<ProviderRow> {
  const [row] = await sql<ProviderRow[]>`
    insert into providers (name, kind, base_url) values (${provider.name}, ${provider.kind}, ${provider.baseUrl}) returning *`;
  return row as ProviderRow;
}

export async function setProviderKey(sql: Queryable, id: string, sealed: string | null, last4: string | null): Promise<ProviderRow> {
  const [row] = await sql<ProviderRow[]>`
    update providers set api_key_sealed = ${sealed}, api_key_last4 = ${last4}, updated_at = now() where id = ${id} returning *`;
  return row as ProviderRow;
}

export async function updateProvider(sql: Queryable, id: string, patch: { name?: string | undefined; baseUrl?: string | undefined }) {
  const [row] = await sql<ProviderRow[]>`
    update providers set name = coalesce(${patch.name ?? null}, name), base_url = coalesce(${patch.baseUrl ?? null}, base_url), updated_at = now()
    where id = ${id} returning *`;
  return row;
}

export async function getProvider(sql: Queryable, id: string, { lock = false } = {}): Promise<ProviderRow | undefined> {
  const [row] = await sql<ProviderRow[]>`select * from providers where id = ${id} ${lock ? sql`for update` : sql``}`;
  return row;
}

export async function findProviderByName(sql: Queryable, name: string): Promise<ProviderRow | undefined> {
  const [row] = await sql<ProviderRow[]>`select * from providers where lower(name) = lower(${name})`;
  return row;
}

export function listProviders(sql: Queryable): Promise<ProviderRow[]> {
  return sql<ProviderRow[]>`select * from providers order by lower(name)`;
}

export async function deleteProvider(sql: Queryable, id: string): Promise<boolean> {
  return (await sql`delete from providers where id = ${id}`).count === 1;
}

export async function countModelsOf(sql: Queryable, providerId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from models where provider_id = ${providerId}`;
  return row?.n ?? 0;
}

const MODEL_COLUMNS = (sql: Queryable) => sql`m.*, p.kind as provider_kind`;

export async function insertModel(sql: Queryable, model: CreateModelBody & { enabled: boolean }): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into models (name, provider_id, upstream_model, context_limit, output_limit, price_input, price_output, price_cache_read, price_cache_write, enabled)
    values (${model.name}, ${model.providerId}, ${model.upstreamModel}, ${model.contextLimit}, ${model.outputLimit},
            ${model.prices.input}, ${model.prices.output}, ${model.prices.cacheRead}, ${model.prices.cacheWrite}, ${model.enabled})
    on conflict (name) do nothing
    returning id`;
  return row?.id ?? '';
}

export async function updateModel(sql: Queryable, id: string, patch: UpdateModelBody): Promise<boolean> {
  const result = await sql`
    update models set
      upstream_model = coalesce(${patch.upstreamModel ?? null}, upstream_model),
      context_limit = coalesce(${patch.contextLimit ?? null}, context_limit),
      output_limit = coalesce(${patch.outputLimit ?? null}, output_limit),
      price_input = coalesce(${patch.prices?.input ?? null}, price_input),
      price_output = coalesce(${patch.prices?.output ?? null}, price_output),
      price_cache_read = coalesce(${patch.prices?.cacheRead ?? null}, price_cache_read),
      price_cache_write = coalesce(${patch.prices?.cacheWrite ?? null}, price_cache_write),
      enabled = coalesce(${patch.enabled ?? null}, enabled),
      updated_at = now()
    where id = ${id}`;
  return result.count === 1;
}

export async function getModel(sql: Queryable, id: string): Promise<ModelRow | undefined> {
  const [row] = await sql<
    ModelRow[]
  >`select ${MODEL_COLUMNS(sql)} from models m join providers p on p.id = m.provider_id where m.id = ${id}`;
  return row;
}

export function listModels(sql: Queryable): Promise<ModelRow[]> {
  return sql<ModelRow[]>`select ${MODEL_COLUMNS(sql)} from models m join providers p on p.id = m.provider_id order by m.name`;
}

export async function deleteModel(sql: Queryable, id: string): Promise<boolean> {
  return (await sql`delete from models where id = ${id}`).count === 1;
}
