import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { CreateUploadBody, Upload } from '@switchboard/protocol';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { Sql } from '../db/client.js';
import { AppError, notFound } from '../errors.js';
import { writeUploadedFiles } from './workspace.js';

const UPLOAD_TTL_MS = 60 * 60_000;

export type UploadService = ReturnType<typeof createUploadService>;

/** Workspace snapshots uploaded ahead of `session/create` (the extension sends the git-tracked files). */
export function createUploadService({
  sql,
  audit,
  dataDir,
  limitBytes,
}: {
  sql: Sql;
  audit: AuditService;
  dataDir: string;
  limitBytes: number;
}) {
  const dirOf = (id: string) => path.join(path.resolve(dataDir), 'uploads', id);

  return {
    async create(userId: string, actor: Actor, body: CreateUploadBody): Promise<Upload> {
      const files = body.files.map((file) => ({
        path: file.path,
        content: Buffer.from(file.content, 'base64'),
        executable: file.executable ?? false,
      }));
      const bytes = files.reduce((sum, file) => sum + file.content.length, 0);
      if (bytes > limitBytes) {
        throw new AppError(
          'PAYLOAD_TOO_LARGE',
          `The upload holds ${Math.ceil(bytes / 1048576)} MiB; the limit is ${Math.floor(limitBytes / 1048576)} MiB. Leave out large or generated files.`,
        );
      }
      const id = randomUUID();
      const dir = dirOf(id);
      try {
        await writeUploadedFiles(dir, files);
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
      const expiresAt = new Date(Date.now() + UPLOAD_TTL_MS);
      await sql.begin(async (tx) => {
        await tx`insert into uploads (id, user_id, files, bytes, expires_at) values (${id}, ${userId}, ${files.length}, ${bytes}, ${expiresAt})`;
        await audit.record(tx, actor, { action: 'upload.create', target: { type: 'upload', id }, payload: { files: files.length, bytes } });
      });
      return { id, files: files.length, bytes, expiresAt: expiresAt.toISOString() };
    },

    /** Marks an upload used (once) and returns its directory; only its owner may use it. */
    async claim(userId: string, id: string): Promise<string> {
      const [row] = await sql<{ id: string }[]>`
        update uploads set used_at = now() where id = ${id} and user_id = ${userId} and used_at is null and expires_at > now() returning id`;
      if (!row) throw notFound('Upload (it may have expired or been used already)');
      return dirOf(id);
    },

    async release(id: string): Promise<void> {
      await rm(dirOf(id), { recursive: true, force: true });
    },

    /** Removes expired and used uploads from disk. */
    async sweep(): Promise<number> {
      const rows = await sql<{ id: string }[]>`delete from uploads where expires_at < now() or used_at is not null returning id`;
      for (const row of rows) await rm(dirOf(row.id), { recursive: true, force: true });
      return rows.length;
    },
  };
}
