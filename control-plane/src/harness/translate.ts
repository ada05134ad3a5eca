import path from 'node:path';
import type { SessionEvent } from '@switchboard/protocol';
import { z } from 'zod';
import type { HarnessEvent } from './harness.js';

/** Tool output and long inputs are cut to this many characters in events (the full result stays in OpenCode). */
export const MAX_TOOL_TEXT = 16 * 1024;
/** The translator forgets the oldest parts past this many, so one process stays bounded whatever it runs. */
const MAX_TRACKED = 50_000;

const Envelope = z.looseObject({
  directory: z.string().optional(),
  payload: z.looseObject({ type: z.string(), properties: z.looseObject({}).optional() }),
});

const Part = z.looseObject({
  id: z.string(),
  messageID: z.string(),
  sessionID: z.string(),
  type: z.string(),
  text: z.string().optional(),
  tool: z.string().optional(),
  callID: z.string().optional(),
  state: z
    .looseObject({
      status: z.string(),
      input: z.unknown().optional(),
      output: z.unknown().optional(),
      error: z.unknown().optional(),
      title: z.string().optional(),
      metadata: z
        .looseObject({
          filepath: z.string().optional(),
          diff: z.string().optional(),
          filediff: z.looseObject({ file: z.string().optional(), patch: z.string().optional() }).optional(),
          files: z.array(z.looseObject({ filePath: z.string().optional(), file: z.string().optional() })).optional(),
        })
        .optional(),
    })
    .optional(),
  tokens: z
    .looseObject({
      input: z.number().catch(0),
      output: z.number().catch(0),
      reasoning: z.number().catch(0),
      cache: z.looseObject({ read: z.number().catch(0), write: z.number().catch(0) }).catch({ read: 0, write: 0 }),
    })
    .optional(),
  files: z.array(z.string()).optional(),
});

const MessageInfo = z.looseObject({
  id: z.string(),
  sessionID: z.string(),
  role: z.enum(['user', 'assistant']),
  modelID: z.string().optional(),
  error: z.looseObject({ name: z.string() }).optional(),
});

const ToolState = z.enum(['pending', 'running', 'completed', 'error']);

/**
 * Turns OpenCode's event stream (`/global/event`) into neutral harness events. It remembers just
 * enough (which messages are the user's, which parts are reasoning, how much text each part has
 * streamed) to emit deltas once, in order, and forgets a session's parts when it goes idle.
 */
export function createTranslator() {
  const roles = new Map<string, 'user' | 'assistant'>();
  const models = new Map<string, string>();
  const partKinds = new Map<string, 'text' | 'reasoning'>();
  const streamed = new Map<string, number>();
  const toolStates = new Map<string, string>();
  const statuses = new Map<string, string>();

  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    if (map.size >= MAX_TRACKED) map.delete(map.keys().next().value as string);
    map.set(key, value);
  };
  /** Text parts of finished turns: OpenCode may still send their final snapshot after the idle (an abort does). */
  const closed = new Set<string>();
  const forget = (harnessSessionId: string) => {
    const prefix = `${harnessSessionId}:`;
    for (const key of streamed.keys()) {
      if (!key.startsWith(prefix)) continue;
      if (closed.size >= MAX_TRACKED) closed.delete(closed.values().next().value as string);
      closed.add(key);
    }
    for (const map of [roles, models, partKinds, streamed, toolStates] as Map<string, unknown>[]) {
      for (const key of map.keys()) if (key.startsWith(prefix)) map.delete(key);
    }
  };
  const session = (harnessSessionId: string, event: SessionEvent): HarnessEvent => ({ kind: 'session', harnessSessionId, event });

  function status(harnessSessionId: string, next: 'busy' | 'idle' | 'retry', detail?: string): HarnessEvent[] {
    // One event per change of state: an abort's "idle (aborted)" is not followed by a second idle.
    const key = next === 'retry' ? `retry:${detail ?? ''}` : next;
    if (statuses.get(harnessSessionId) === key) return [];
    statuses.set(harnessSessionId, key);
    if (next === 'idle') forget(harnessSessionId);
    return [session(harnessSessionId, detail ? { type: 'status', status: next, detail } : { type: 'status', status: next })];
  }

  function textDelta(sessionId: string, messageId: string, partId: string, kind: 'text' | 'reasoning', delta: string): HarnessEvent[] {
    if (!delta) return [];
    remember(streamed, `${sessionId}:${partId}`, (streamed.get(`${sessionId}:${partId}`) ?? 0) + delta.length);
    return [session(sessionId, { type: kind === 'text' ? 'text.delta' : 'reasoning.delta', messageId, partId, delta })];
  }

  function part(raw: unknown, directory: string | undefined): HarnessEvent[] {
    const parsed = Part.safeParse(raw);
    if (!parsed.success) return [];
    const p = parsed.data;
    const key = `${p.sessionID}:${p.id}`;
    if (roles.get(`${p.sessionID}:${p.messageID}`) === 'user') return [];
    if (p.type === 'text' || p.type === 'reasoning') {
      if (closed.has(key)) return [];
      remember(partKinds, key, p.type);
      // Parts that arrive whole (providers that do not stream) still reach clients as deltas.
      const seen = streamed.get(key) ?? 0;
      return p.text && p.text.length > seen ? textDelta(p.sessionID, p.messageID, p.id, p.type, p.text.slice(seen)) : [];
    }
    if (p.type === 'tool' && p.tool && p.callID && p.state) {
      const state = ToolState.safeParse(p.state.status);
      if (!state.success || toolStates.get(`${p.sessionID}:${p.callID}`) === state.data) return [];
      remember(toolStates, `${p.sessionID}:${p.callID}`, state.data);
      const event: SessionEvent = { type: 'tool.updated', messageId: p.messageID, callId: p.callID, tool: p.tool, state: state.data };
      if (p.state.input !== undefined && state.data !== 'pending') event.input = clip(p.state.input);
      if (typeof p.state.output === 'string') event.output = clipText(p.state.output);
      if (p.state.error !== undefined)
        event.error = clipText(typeof p.state.error === 'string' ? p.state.error : JSON.stringify(p.state.error));
      return [
        session(p.sessionID, event),
        ...(state.data === 'completed'
          ? editedFiles(p.sessionID, p.state, p.state.input, directory).map((edit) => session(p.sessionID, edit))
          : []),
      ];
    }
    if (p.type === 'step-finish' && p.tokens) {
      const t = p.tokens;
      return [
        {
          kind: 'usage',
          harnessSessionId: p.sessionID,
          usage: {
            messageId: p.messageID,
            model: models.get(`${p.sessionID}:${p.messageID}`) ?? '',
            input: t.input,
            output: t.output,
            reasoning: t.reasoning,
            cacheRead: t.cache.read,
            cacheWrite: t.cache.write,
          },
        },
      ];
    }
    if (p.type === 'patch' && p.files) {
      return p.files.map((file) => session(p.sessionID, { type: 'file.edited', path: relative(directory, file) }));
    }
    return [];
  }

  function translate(raw: unknown): HarnessEvent[] {
    const envelope = Envelope.safeParse(raw);
    if (!envelope.success) return [];
    const { type, properties = {} } = envelope.data.payload;
    const directory = envelope.data.directory;
    const props = properties as Record<string, unknown>;
    const sessionId = typeof props.sessionID === 'string' ? props.sessionID : undefined;
    switch (type) {
      case 'message.updated': {
        const info = MessageInfo.safeParse(props.info);
        if (!info.success) return [];
        remember(roles, `${info.data.sessionID}:${info.data.id}`, info.data.role);
        if (info.data.modelID) remember(models, `${info.data.sessionID}:${info.data.id}`, info.data.modelID);
        if (info.data.error?.name === 'MessageAbortedError') return status(info.data.sessionID, 'idle', 'aborted');
        return [];
      }
      case 'message.part.updated':
        return part(props.part, directory);
      case 'message.part.delta': {
        const delta = z.looseObject({ messageID: z.string(), partID: z.string(), field: z.string(), delta: z.string() }).safeParse(props);
        if (!sessionId || !delta.success || delta.data.field !== 'text') return [];
        if (roles.get(`${sessionId}:${delta.data.messageID}`) === 'user') return [];
        const kind = partKinds.get(`${sessionId}:${delta.data.partID}`) ?? 'text';
        return textDelta(sessionId, delta.data.messageID, delta.data.partID, kind, delta.data.delta);
      }
      case 'session.status': {
        const value = z.looseObject({ type: z.enum(['busy', 'idle', 'retry']), message: z.string().optional() }).safeParse(props.status);
        if (!sessionId || !value.success) return [];
        return status(sessionId, value.data.type, value.data.type === 'retry' ? value.data.message : undefined);
      }
      case 'session.idle':
        return sessionId ? status(sessionId, 'idle') : [];
      case 'session.created': {
        const info = z.looseObject({ id: z.string(), parentID: z.string().optional() }).safeParse(props.info);
        return info.success && info.data.parentID ? [{ kind: 'child', harnessSessionId: info.data.id, parentId: info.data.parentID }] : [];
      }
      case 'session.error': {
        const error = z
          .looseObject({
            name: z.string().catch('Error'),
            data: z
              .looseObject({ message: z.string().optional(), statusCode: z.number().optional(), responseBody: z.string().optional() })
              .optional(),
          })
          .safeParse(props.error);
        if (!sessionId || !error.success) return [];
        if (error.data.name === 'MessageAbortedError') return status(sessionId, 'idle', 'aborted');
        return [
          {
            kind: 'error',
            harnessSessionId: sessionId,
            name: error.data.name,
            message: error.data.data?.message ?? error.data.name,
            statusCode: error.data.data?.statusCode ?? null,
            responseBody: error.data.data?.responseBody ?? null,
          },
        ];
      }
      case 'permission.asked': {
        const asked = z
          .looseObject({
            id: z.string(),
            sessionID: z.string(),
            permission: z.string(),
            patterns: z.array(z.string()).catch([]),
            metadata: z.unknown().optional(),
          })
          .safeParse(props);
        if (!asked.success || !directory) return [];
        const a = asked.data;
        return [
          {
            kind: 'permission',
            harnessSessionId: a.sessionID,
            directory,
            permissionId: a.id,
            permission: a.permission,
            patterns: a.patterns,
            title: describePermission(a.permission, a.patterns),
          },
        ];
      }
      case 'question.asked': {
        const asked = z
          .looseObject({
            id: z.string(),
            sessionID: z.string(),
            questions: z.array(
              z.looseObject({
                header: z.string().catch(''),
                question: z.string(),
                options: z.array(z.looseObject({ label: z.string(), description: z.string().catch('') })).catch([]),
                multiple: z.boolean().catch(false),
              }),
            ),
          })
          .safeParse(props);
        if (!asked.success || !directory) return [];
        return [
          {
            kind: 'question',
            harnessSessionId: asked.data.sessionID,
            directory,
            questionId: asked.data.id,
            questions: asked.data.questions,
          },
        ];
      }
      default:
        return [];
    }
  }

  return { translate, forget, trackedSize: () => roles.size + partKinds.size + streamed.size + toolStates.size };
}

/** File edits a finished tool made, with the diff OpenCode computed when it has one. */
function editedFiles(
  _sessionId: string,
  state: {
    metadata?:
      | {
          filepath?: string | undefined;
          diff?: string | undefined;
          filediff?: { file?: string | undefined; patch?: string | undefined } | undefined;
          files?: { filePath?: string | undefined; file?: string | undefined }[] | undefined;
        }
      | undefined;
  },
  input: unknown,
  directory: string | undefined,
): SessionEvent[] {
  const meta = state.metadata;
  if (!meta) return [];
  const diff = meta.filediff?.patch ?? meta.diff;
  const single = meta.filediff?.file ?? meta.filepath;
  if (single)
    return [
      diff
        ? { type: 'file.edited', path: relative(directory, single), diff: clipText(diff) }
        : { type: 'file.edited', path: relative(directory, single) },
    ];
  const many = (meta.files ?? []).map((file) => file.filePath ?? file.file).filter((file): file is string => typeof file === 'string');
  if (many.length > 0) return many.map((file) => ({ type: 'file.edited', path: relative(directory, file) }));
  const fromInput = (input as { filePath?: unknown } | undefined)?.filePath;
  return typeof fromInput === 'string' && fromInput ? [{ type: 'file.edited', path: relative(directory, fromInput) }] : [];
}

function describePermission(permission: string, patterns: string[]): string {
  const subject = patterns.slice(0, 3).join(', ');
  return subject ? `${permission}: ${subject}${patterns.length > 3 ? ` (+${patterns.length - 3} more)` : ''}` : permission;
}

function relative(directory: string | undefined, file: string): string {
  if (!directory || !path.isAbsolute(file)) return file;
  const rel = path.relative(directory, file);
  return rel.startsWith('..') ? file : rel;
}

function clipText(text: string): string {
  return text.length > MAX_TOOL_TEXT ? `${text.slice(0, MAX_TOOL_TEXT)}\n… (${text.length - MAX_TOOL_TEXT} more characters)` : text;
}

function clip(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return clipText(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, 200).map((item) => clip(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, clip(item, depth + 1)]));
}
