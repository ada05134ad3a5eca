import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SYSTEM } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { Sql } from '../db/client.js';
import { countUsers, insertUser } from '../users/user-repository.js';
import { insertToken } from './token-repository.js';
import { generateToken } from './tokens.js';

const BOOTSTRAP_LOCK = 7_420_002;

/**
 * On an empty database, creates the first admin and a token for them. Returns the token (to be
 * printed once) or `undefined` when users already exist. Safe when two processes start together.
 */
export async function bootstrapAdmin({ sql, audit, email, dataDir }: { sql: Sql; audit: AuditService; email: string; dataDir: string }) {
  const created = await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`;
    if ((await countUsers(tx)) > 0) return undefined;
    const user = await insertUser(tx, { email, displayName: 'Administrator', role: 'admin' });
    const secret = generateToken();
    const token = await insertToken(tx, {
      userId: user.id,
      name: 'bootstrap',
      hash: secret.hash,
      hint: secret.hint,
      createdBy: null,
      expiresAt: null,
    });
    await audit.record(tx, SYSTEM, {
      action: 'admin.bootstrap',
      target: { type: 'user', id: user.id },
      payload: { email, tokenId: token.id, hint: token.hint },
    });
    return { user, token: secret.token };
  });
  if (!created) return undefined;
  const file = path.join(dataDir, 'admin-token');
  await writeFile(file, `${created.token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return { ...created, file };
}
