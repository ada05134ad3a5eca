import { z } from 'zod';
import type { Queryable, Sql } from '../db/client.js';

const CHANNEL = 'switchboard_access';
const AccessChange = z.object({ userId: z.string().optional(), tokenId: z.string().optional() });
export type AccessChange = z.infer<typeof AccessChange>;

/**
 * Tells every control plane on the database that a user's rights or a token changed (a role, a
 * disabled account, a revoked token). Sent inside the transaction of the change, so it is heard
 * when, and only if, the change commits; open connections re-check at once instead of within a minute.
 */
export async function announceAccessChange(tx: Queryable, change: AccessChange): Promise<void> {
  await tx`select pg_notify(${CHANNEL}, ${JSON.stringify(change)})`;
}

/** Hears access changes; a malformed payload is ignored. Resolves to the function that stops listening. */
export async function listenForAccessChanges(sql: Sql, onChange: (change: AccessChange) => void): Promise<() => Promise<void>> {
  const { unlisten } = await sql.listen(CHANNEL, (payload) => {
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch {
      return;
    }
    const parsed = AccessChange.safeParse(json);
    if (parsed.success) onChange(parsed.data);
  });
  return unlisten;
}
