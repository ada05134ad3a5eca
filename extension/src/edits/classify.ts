import type { ChangedFile, ChatChange } from '@switchboard/protocol';

/**
 * Whether applying the agent's version is safe: the local file must still be what the workspace
 * was seeded with (or absent, for a file the agent added). Anything else is someone's work.
 */
export function classify(change: ChangedFile, localSha: string | null): ChatChange {
  const applied = change.status === 'deleted' ? localSha === null : localSha === change.sha256;
  const untouched = change.status === 'added' ? localSha === null : localSha === change.baseSha256;
  return { path: change.path, status: change.status, applied, conflict: !applied && !untouched };
}
