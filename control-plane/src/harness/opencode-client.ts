import { Agent, request } from 'undici';
import { z } from 'zod';
import type { CreateHarnessSession, HarnessTarget } from './harness.js';

export class HarnessRequestError extends Error {
  override name = 'HarnessRequestError';
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

const SessionInfo = z.looseObject({ id: z.string().regex(/^ses/), directory: z.string() });
const Health = z.looseObject({ healthy: z.boolean(), version: z.string().optional() });

/**
 * A small client for the endpoints of `opencode serve` we use. Every call names its directory
 * (OpenCode keeps one instance per directory in the shared process) and authenticates with the
 * process's random password. Replies are parsed, never trusted.
 */
export function createOpencodeClient(baseUrl: string, password: string, timeoutMs = 30_000) {
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 64, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const authorization = `Basic ${Buffer.from(`opencode:${password}`).toString('base64')}`;

  async function call(method: 'GET' | 'POST', path: string, directory: string | null, body?: unknown, waitMs?: number): Promise<unknown> {
    const query = directory ? `${path.includes('?') ? '&' : '?'}directory=${encodeURIComponent(directory)}` : '';
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(`${baseUrl}${path}${query}`, {
        method,
        dispatcher,
        headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? null : JSON.stringify(body),
        ...(waitMs ? { signal: AbortSignal.timeout(waitMs) } : {}),
      });
    } catch (error) {
      throw new HarnessRequestError(`The agent runtime did not answer ${method} ${path}: ${(error as Error).message}`, null);
    }
    const text = await response.body.text();
    if (response.statusCode >= 400) {
      throw new HarnessRequestError(
        `The agent runtime refused ${method} ${path} (${response.statusCode}): ${text.slice(0, 500)}`,
        response.statusCode,
      );
    }
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }

  return {
    baseUrl,
    authorization,
    async health(): Promise<boolean> {
      try {
        // A process that is still starting may accept the connection and answer late: ask again instead of waiting.
        return Health.parse(await call('GET', '/global/health', null, undefined, 1500)).healthy;
      } catch {
        return false;
      }
    },
    async createSession(input: CreateHarnessSession): Promise<{ harnessSessionId: string }> {
      const parsed = SessionInfo.safeParse(
        await call('POST', '/session', input.directory, { title: input.title, permission: input.permission }),
      );
      if (!parsed.success) throw new HarnessRequestError('The agent runtime answered session creation with something unexpected.', null);
      return { harnessSessionId: parsed.data.id };
    },
    async prompt(target: HarnessTarget, body: Record<string, unknown>): Promise<void> {
      await call('POST', `/session/${encodeURIComponent(target.harnessSessionId)}/prompt_async`, target.directory, body);
    },
    async abort(target: HarnessTarget): Promise<void> {
      await call('POST', `/session/${encodeURIComponent(target.harnessSessionId)}/abort`, target.directory);
    },
    async replyPermission(directory: string, permissionId: string, reply: 'once' | 'always' | 'reject'): Promise<void> {
      await call('POST', `/permission/${encodeURIComponent(permissionId)}/reply`, directory, { reply });
    },
    async replyQuestion(directory: string, questionId: string, answers: string[][]): Promise<void> {
      await call('POST', `/question/${encodeURIComponent(questionId)}/reply`, directory, { answers });
    },
    async rejectQuestion(directory: string, questionId: string): Promise<void> {
      await call('POST', `/question/${encodeURIComponent(questionId)}/reject`, directory);
    },
    async dispose(directory: string): Promise<void> {
      await call('POST', '/instance/dispose', directory);
    },
    close: () => dispatcher.close(),
  };
}

export type OpencodeClient = ReturnType<typeof createOpencodeClient>;
