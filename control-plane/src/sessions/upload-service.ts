import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { CreateUploadBody, Upload } from '@switchboard/protocol';
import type { Actor } from '../audit/actions.js';
import type { AuditService } from '../audit/audit-service.js';
import type { Queryable, Sql } from '../db/client.js';
import { AppError, notFound } from '../errors.js';
import { writeUploadedFiles } from './workspace.js';

const UPLOAD_TTL_MS = 60 * 60_000;
const CONCURRENT_PER_USER = 2;

export type UploadService = ReturnType<typeof createUploadService>;

/** Workspace snapshots uploaded ahead of `session/create` (the extension sends the git-tracked files). */
export function createUploadService({
  sql,
  audit,
  dataDir,
  limitBytes,
  maxPendingPerUser,
}: {
  sql: Sql;
  audit: AuditService;
  dataDir: string;
  limitBytes: number;
  /** Unused uploads one user may hold; together they may hold at most twice `limitBytes`. */
  maxPendingPerUser: number;
}) {
  const dirOf = (id: string) => path.join(path.resolve(dataDir), 'uploads', id);
  /** Uploads being written now, per user: a user's uploads are written one or two at a time, never a flood in parallel. */
  const writing = new Map<string, number>();

  /** Refuses an upload that would take the user past the count or bytes of unused uploads they may hold. */
  async function checkQuota(tx: Queryable, userId: string, bytes: number, { lock = false } = {}): Promise<void> {
    if (lock) await tx`select pg_advisory_xact_lock(hashtextextended(${`uploads:${userId}`}, 0))`;
    const [held] = await tx<{ n: number; bytes: string }[]>`
      select count(*)::int as n, coalesce(sum(bytes), 0)::text as bytes from uploads
      where user_id = ${userId} and used_at is null and expires_at > now()`;
    const count = held?.n ?? 0;
    const total = BigInt(held?.bytes ?? '0') + BigInt(bytes);
    if (count >= maxPendingPerUser || total > BigInt(limitBytes) * 2n)
      throw new AppError(
        'RATE_LIMITED',
        `You hold ${count} uploads no session has used yet (${Math.ceil(Number(total - BigInt(bytes)) / 1048576)} MiB); the most is ${maxPendingPerUser} and ${Math.floor((limitBytes * 2) / 1048576)} MiB. Start a session from one, or wait an hour for them to expire.`,
        { limit: maxPendingPerUser },
      );
  }

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
      if ((writing.get(userId) ?? 0) >= CONCURRENT_PER_USER)
        throw new AppError('RATE_LIMITED', 'Another upload of yours is still being written. Wait for it, then try again.');
      await checkQuota(sql, userId, bytes);
      const id = randomUUID();
      const dir = dirOf(id);
      writing.set(userId, (writing.get(userId) ?? 0) + 1);
      try {
        await writeUploadedFiles(dir, files);
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      } finally {
        const left = (writing.get(userId) ?? 1) - 1;
        if (left > 0) writing.set(userId, left);
        else writing.delete(userId);
      }
      const expiresAt = new Date(Date.now() + UPLOAD_TTL_MS);
      await sql
        .begin(async (tx) => {
          await checkQuota(tx, userId, bytes, { lock: true });
          await tx`insert into uploads (id, user_id, files, bytes, expires_at) values (${id}, ${userId}, ${files.length}, ${bytes}, ${expiresAt})`;
          await audit.record(tx, actor, {
            action: 'upload.create',
            target: { type: 'upload', id },
            payload: { files: files.length, bytes },
          });
        })
        .catch(async (error: unknown) => {
          await rm(dir, { recursive: true, force: true });
          throw error;
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
