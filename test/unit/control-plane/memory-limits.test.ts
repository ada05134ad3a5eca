import { describe, expect, it } from 'vitest';
import { checkMemoryWrite, utf8Bytes } from '../../../control-plane/src/memory/limits.js';

const limits = { noteBytes: 100, totalBytes: 250 };

describe('memory size rules', () => {
  it('refuses a note larger than the per-note limit, whatever space is left', () => {
    expect(checkMemoryWrite({ limits, usedBytes: 0, previousBytes: 0, bytes: 101 })).toMatchObject({ ok: false, reason: 'note' });
    expect(checkMemoryWrite({ limits, usedBytes: 0, previousBytes: 0, bytes: 100 })).toEqual({ ok: true, usedAfter: 100 });
  });

  it('counts a replaced note once: its old size is freed by the new one', () => {
    expect(checkMemoryWrite({ limits, usedBytes: 240, previousBytes: 0, bytes: 20 })).toMatchObject({ ok: false, reason: 'total' });
    expect(checkMemoryWrite({ limits, usedBytes: 240, previousBytes: 90, bytes: 100 })).toEqual({ ok: true, usedAfter: 250 });
    expect(checkMemoryWrite({ limits, usedBytes: 250, previousBytes: 100, bytes: 0 })).toEqual({ ok: true, usedAfter: 150 });
  });

  it('says what to do in its refusal', () => {
    const refused = checkMemoryWrite({ limits, usedBytes: 240, previousBytes: 0, bytes: 20 });
    expect(refused.ok ? '' : refused.message).toBe(
      'Memory is full: saving this would use 260 of 250 bytes. Delete or shorten other notes first.',
    );
  });

  it('measures UTF-8 bytes, not characters', () => {
    expect(utf8Bytes('héllo')).toBe(6);
    expect(utf8Bytes('🙂')).toBe(4);
  });
});
