import { Id, MemoryKey } from '@switchboard/protocol';
import * as vscode from 'vscode';
import { type SwitchboardClient, toRpcError } from '../client/switchboard-client.js';

export const MEMORY_SCHEME = 'switchboard-memory';

/**
 * `switchboard-memory:/<agentId>/<key>.md`: one memory note of an agent, for the signed-in user.
 * The key comes from the control plane: one that is not a note name (`../x`, `a/b`) is refused
 * rather than turned into a path that names something else.
 */
export function memoryUri(agentId: string, key: string): vscode.Uri {
  if (!Id.safeParse(agentId).success || !MemoryKey.safeParse(key).success) {
    throw new Error(`Switchboard refused the memory note ${JSON.stringify(key.slice(0, 200))}: that is not a note name it can open.`);
  }
  return vscode.Uri.from({ scheme: MEMORY_SCHEME, path: `/${agentId}/${key}.md` });
}

function parse(uri: vscode.Uri): { agentId: string; key?: string } {
  const [, agentId, file, ...rest] = uri.path.split('/');
  if (!agentId || rest.length > 0) throw vscode.FileSystemError.FileNotFound(uri);
  return file ? { agentId, key: file.replace(/\.md$/, '') } : { agentId };
}

/**
 * An agent's memory notes as files: open one, edit it, save it, and the agent reads the new text in
 * its next session. Saving and deleting go through the control plane (audited, size-limited).
 */
export class MemoryFileSystem implements vscode.FileSystemProvider {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  constructor(private readonly client: SwitchboardClient) {}

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => {});
  }

  private async notes(agentId: string) {
    try {
      return await this.client.request('memory/list', { agentId });
    } catch (error) {
      const failure = toRpcError(error);
      if (failure.code === 'NOT_FOUND') throw vscode.FileSystemError.FileNotFound(failure.message);
      throw vscode.FileSystemError.Unavailable(failure.message);
    }
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { agentId, key } = parse(uri);
    const list = await this.notes(agentId);
    if (!key) return { type: vscode.FileType.Directory, ctime: 0, mtime: 0, size: 0 };
    const note = list.items.find((item) => item.key === key);
    if (!note) throw vscode.FileSystemError.FileNotFound(uri);
    const mtime = Date.parse(note.updatedAt);
    return { type: vscode.FileType.File, ctime: mtime, mtime, size: note.bytes };
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const { agentId } = parse(uri);
    return (await this.notes(agentId)).items.map((note) => [`${note.key}.md`, vscode.FileType.File]);
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { agentId, key } = parse(uri);
    const note = (await this.notes(agentId)).items.find((item) => item.key === key);
    if (!note) throw vscode.FileSystemError.FileNotFound(uri);
    return new TextEncoder().encode(note.content);
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array): Promise<void> {
    const { agentId, key } = parse(uri);
    if (!key) throw vscode.FileSystemError.FileIsADirectory(uri);
    try {
      await this.client.request('memory/put', { agentId, key, content: new TextDecoder().decode(content) });
    } catch (error) {
      throw vscode.FileSystemError.NoPermissions(`Switchboard did not save the note: ${toRpcError(error).message}`);
    }
    this.changed.fire([{ type: vscode.FileChangeType.Changed, uri }]);
  }

  async delete(uri: vscode.Uri): Promise<void> {
    const { agentId, key } = parse(uri);
    if (!key) throw vscode.FileSystemError.NoPermissions('Delete notes one by one.');
    await this.client.request('memory/delete', { agentId, key }).catch((error: unknown) => {
      throw vscode.FileSystemError.NoPermissions(toRpcError(error).message);
    });
    this.changed.fire([{ type: vscode.FileChangeType.Deleted, uri }]);
  }

  createDirectory(): void {
    throw vscode.FileSystemError.NoPermissions('Memory holds notes only.');
  }

  rename(): void {
    throw vscode.FileSystemError.NoPermissions('Copy the note to a new name, then delete the old one.');
  }
}
