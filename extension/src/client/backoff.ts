const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

/** Exponential backoff with ±20 % jitter, capped, so a fleet of editors does not reconnect in lockstep. */
export function nextDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(attempt, 16));
  return Math.round(base * (0.8 + random() * 0.4));
}
