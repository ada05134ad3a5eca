import type { Secret } from '@switchboard/protocol';
import type { Queryable } from '../db/client.js';

export interface SecretRow {
  id: string;
  name: string;
  value_sealed: string;
  last4: string;
  created_by: string | null;
  updated_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export function toSecret(row: SecretRow): Secret {
  return {
    name: row.name,
    last4: row.last4,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    updatedBy: row.updated_by,
  };
}

export async function getSecret(sql: Queryable, name: string, { lock = false } = {}): Promise<SecretRow | undefined> {
  const [row] = await sql<SecretRow[]>`select * from secrets where name = ${name} ${lock ? sql`for update` : sql``}`;
  return row;
}

export function listSecrets(sql: Queryable): Promise<SecretRow[]> {
  return sql<SecretRow[]>`select * from secrets order by name`;
}

export function secretsNamed(sql: Queryable, names: string[]): Promise<SecretRow[]> {
  if (names.length === 0) return Promise.resolve([]);
  return sql<SecretRow[]>`select * from secrets where name in ${sql(names)}`;
}

/** Inserts the row without a value yet: the value is sealed with the row's id as context. */
export async function insertSecret(sql: Queryable, name: string, userId: string | null): Promise<SecretRow> {
  const [row] = await sql<SecretRow[]>`
    insert into secrets (name, value_sealed, last4, created_by, updated_by) values (${name}, '', '', ${userId}, ${userId})
    returning *`;
  return row as SecretRow;
}

export async function setSecretValue(sql: Queryable, id: string, sealed: string, last4: string, userId: string | null): Promise<SecretRow> {
  const [row] = await sql<SecretRow[]>`
    update secrets set value_sealed = ${sealed}, last4 = ${last4}, updated_by = ${userId}, updated_at = now()
    where id = ${id} returning *`;
  return row as SecretRow;
}

export async function deleteSecret(sql: Queryable, id: string): Promise<void> {
  await sql`delete from secrets where id = ${id}`;
}
