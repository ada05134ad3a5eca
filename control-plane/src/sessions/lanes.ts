/**
 * Serial work per key, parallel across keys: the jobs of one key run one after another in the
 * order they were queued, while a slow job of one key never delays another key. A key whose queue
 * runs empty is forgotten, so memory follows the keys that have work, not every key ever seen.
 */
export function createLanes(onError: (error: unknown, key: string) => void) {
  const tails = new Map<string, Promise<void>>();

  return {
    run(key: string, job: () => Promise<void> | void): void {
      const tail = (tails.get(key) ?? Promise.resolve()).then(job).catch((error: unknown) => onError(error, key));
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
    },

    /** Resolves when every job queued so far has finished. */
    async idle(): Promise<void> {
      while (tails.size > 0) await Promise.all([...tails.values()]);
    },

    get size() {
      return tails.size;
    },
  };
}

export type Lanes = ReturnType<typeof createLanes>;
