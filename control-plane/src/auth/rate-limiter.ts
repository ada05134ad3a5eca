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
