/**
 * Counts events per key in fixed one-minute windows, holding at most `maxKeys` keys so a flood
 * of distinct addresses cannot grow memory without bound (the oldest window is dropped first).
 */
export function createWindowCounter({
  limit,
  windowMs = 60_000,
  maxKeys = 10_000,
  now = Date.now,
}: {
  limit: number;
  windowMs?: number;
  maxKeys?: number;
  now?: () => number;
}) {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    /** Adds one event; returns how many the key has in the current window, this one included. */
    hit(key: string): number {
      const at = now();
      const current = windows.get(key);
      if (current && at - current.start < windowMs) {
        current.count += 1;
        return current.count;
      }
      windows.delete(key);
      if (windows.size >= maxKeys) {
        const oldest = windows.keys().next().value;
        if (oldest !== undefined) windows.delete(oldest);
      }
      windows.set(key, { start: at, count: 1 });
      return 1;
    },
    /** True when the key has used up its window. */
    exceeded(key: string): boolean {
      const current = windows.get(key);
      return current !== undefined && now() - current.start < windowMs && current.count >= limit;
    },
    get size() {
      return windows.size;
    },
  };
}

export type FailureScope = 'address' | 'account';

export type FailureVerdict = { limited: false } | { limited: true; scope: FailureScope; first: boolean };

const ACCOUNT_CHARS = 4;

/**
 * What a presented credential says about whose it is before any lookup: its kind prefix (`sb_`,
 * `sbk_`) and the next four characters, which is the hint the API shows for a token. Two tokens
 * rarely share it; a guesser cycling random tokens spreads over many, and is held by its address.
 */
export function credentialAccount(credential: string | undefined): string | undefined {
  if (!credential) return undefined;
  const prefix = /^[A-Za-z]{1,8}_/.exec(credential)?.[0] ?? '';
  return credential.slice(0, prefix.length + ACCOUNT_CHARS);
}

/**
 * The one rule for failed authentications, shared by REST, the gateway, MCP and the WebSocket:
 * each failure counts against the client address and against the account the credential names.
 * Past the limit on either, failures answer 429 (and the audit trail hears it once, not every
 * time). A valid credential is never refused because others failed: behind a proxy or a NAT many
 * people share one address, and one of them must not be able to lock the rest out.
 */
export function createAuthFailureLimiter(options: { limit: number; windowMs?: number; maxKeys?: number; now?: () => number }) {
  const addresses = createWindowCounter(options);
  const accounts = createWindowCounter(options);
  return {
    fail({ address, credential }: { address: string; credential?: string | undefined }): FailureVerdict {
      const byAddress = addresses.hit(address);
      const account = credentialAccount(credential);
      const byAccount = account === undefined ? 0 : accounts.hit(account);
      const over = options.limit + 1;
      if (byAddress < over && byAccount < over) return { limited: false };
      if (byAccount === over) return { limited: true, scope: 'account', first: true };
      return { limited: true, scope: byAddress >= over ? 'address' : 'account', first: byAddress === over };
    },
  };
}

export type AuthFailureLimiter = ReturnType<typeof createAuthFailureLimiter>;
