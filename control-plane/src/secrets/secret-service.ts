import type { PutSecretBody, Secret } from '@switchboard/protocol';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { Queryable, Sql } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { AppError, conflict, notFound } from '../errors.js';
import { lastFour, type Vault } from '../vault/vault.js';
import * as repo from './secret-repository.js';

export type SecretService = ReturnType<typeof createSecretService>;

/**
 * Secrets that agents' MCP servers need, sealed by the vault with the row id as context (a sealed
 * value cannot be moved to another row). Nothing but `open` ever sees a value again; the API shows
 * the last four characters, and audit rows the name.
 */
export function createSecretService({
  sql,
  audit,
  vault,
  referencedBy,
}: {
  sql: Sql;
  audit: AuditService;
  vault: Vault;
  /** Names of live agents whose current version uses the secret (deletion is refused while any does). */
  referencedBy: (tx: Queryable, name: string) => Promise<string[]>;
}) {
  async function putIn(tx: Queryable, actor: Actor, body: PutSecretBody): Promise<{ secret: Secret; created: boolean }> {
    const existing = await repo.getSecret(tx, body.name, { lock: true });
    const row = existing ?? (await repo.insertSecret(tx, body.name, actor.userId ?? null));
    const updated = await repo.setSecretValue(tx, row.id, vault.seal(body.value, row.id), lastFour(body.value), actor.userId ?? null);
    await audit.record(tx, actor, {
      action: 'secret.set',
      target: { type: 'secret', id: row.id },
      payload: { name: body.name, last4: updated.last4, replaced: existing !== undefined },
    });
    return { secret: repo.toSecret(updated), created: existing === undefined };
  }

  return {
    async put(actor: Actor, body: PutSecretBody): Promise<{ secret: Secret; created: boolean }> {
      try {
        return await sql.begin((tx) => putIn(tx, actor, body));
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`The secret "${body.name}" was created at the same moment. Send it again.`);
        throw error;
      }
    },

    async list(): Promise<Secret[]> {
      return (await repo.listSecrets(sql)).map(repo.toSecret);
    },

    async remove(actor: Actor, name: string): Promise<void> {
      await sql.begin(async (tx) => {
        const row = await repo.getSecret(tx, name, { lock: true });
        if (!row) throw notFound('Secret');
        const agents = await referencedBy(tx, name);
        if (agents.length > 0) throw conflict(`The agent(s) ${agents.join(', ')} use this secret. Change them first.`);
        await repo.deleteSecret(tx, row.id);
        await audit.record(tx, actor, { action: 'secret.delete', target: { type: 'secret', id: row.id }, payload: { name } });
      });
    },

    /** The plaintext values of the named secrets; a missing one is an error naming it. */
    async open(names: string[]): Promise<Map<string, string>> {
      const unique = [...new Set(names)];
      const rows = await repo.secretsNamed(sql, unique);
      const missing = unique.filter((name) => !rows.some((row) => row.name === name));
      if (missing.length > 0)
        throw new AppError('CONFLICT', `The secret(s) ${missing.join(', ')} do not exist any more. Ask an admin to add them.`);
      return new Map(rows.map((row) => [row.name, vault.open(row.value_sealed, row.id)]));
    },

    /** Which of the names exist (agent definitions are checked against this). */
    async existing(names: string[]): Promise<Set<string>> {
      return new Set((await repo.secretsNamed(sql, [...new Set(names)])).map((row) => row.name));
    },
  };
}
