export interface MemoryLimits {
  /** Largest single note, in UTF-8 bytes. */
  noteBytes: number;
  /** All notes of one agent for one user together, in UTF-8 bytes. */
  totalBytes: number;
}

export type MemoryCheck = { ok: true; usedAfter: number } | { ok: false; reason: 'note' | 'total'; message: string };

/**
 * Whether a note of `bytes` may replace one of `previousBytes` (0 for a new key) when the agent and
 * user already hold `usedBytes` in all. The messages are for the agent as much as for people.
 */
export function checkMemoryWrite(input: { limits: MemoryLimits; usedBytes: number; previousBytes: number; bytes: number }): MemoryCheck {
  const { limits, usedBytes, previousBytes, bytes } = input;
  if (bytes > limits.noteBytes) {
    return {
      ok: false,
      reason: 'note',
      message: `This note is ${bytes} bytes; a note may hold at most ${limits.noteBytes} bytes. Shorten it or split it.`,
    };
  }
  const usedAfter = usedBytes - previousBytes + bytes;
  if (usedAfter > limits.totalBytes) {
    return {
      ok: false,
      reason: 'total',
      message: `Memory is full: saving this would use ${usedAfter} of ${limits.totalBytes} bytes. Delete or shorten other notes first.`,
    };
  }
  return { ok: true, usedAfter };
}

export const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');
