import { chmod, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { WorkspaceSource } from '@switchboard/protocol';
import type { OutboundRules } from '../net/outbound.js';
import { seedFromGit, seedFromUpload, stripHarnessConfig } from './workspace.js';
import { fingerprint, saveBaseline } from './workspace-changes.js';

/**
 * Fills a new session's workspace from its source (empty, an upload, a git clone), removes any
 * OpenCode config it brought, and fingerprints it so `session/changes` can tell what the agent did.
 * On any failure the directory is removed: nothing is half-written.
 */
export async function seedWorkspace(
  dir: string,
  workspace: WorkspaceSource,
  options: {
    dataDir: string;
    sessionId: string;
    allowLocal: boolean;
    maxBytes: number;
    outbound: OutboundRules;
    claimUpload: (uploadId: string) => Promise<string>;
    releaseUpload: (uploadId: string) => Promise<void>;
  },
): Promise<void> {
  try {
    // The parent is only traversable: the runtime's user enters its own workspace, lists none.
    await mkdir(path.dirname(dir), { recursive: true, mode: 0o711 });
    await chmod(path.dirname(dir), 0o711);
    if (workspace.kind === 'git') {
      await seedFromGit(dir, workspace, {
        allowLocal: options.allowLocal,
        maxBytes: options.maxBytes,
        timeoutMs: 120_000,
        outbound: options.outbound,
      });
    } else if (workspace.kind === 'upload') {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await seedFromUpload(dir, await options.claimUpload(workspace.uploadId));
      await options.releaseUpload(workspace.uploadId);
    } else await mkdir(dir, { recursive: true, mode: 0o700 });
    await stripHarnessConfig(dir);
    await saveBaseline(options.dataDir, options.sessionId, await fingerprint(dir));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
