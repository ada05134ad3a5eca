import { z } from 'zod';
import { Id, WorkspacePath } from './common.js';
import { Session } from './rpc.js';
import { SessionEventNotification } from './session-events.js';

/**
 * Messages between the VS Code extension host and its chat webview, one union per direction.
 * Both sides parse what they receive: the webview is a browser frame and its messages are input.
 */

/** A changed file as the chat panel lists it: what the agent did and whether applying it is safe. */
export const ChatChange = z.object({
  path: z.string(),
  status: z.enum(['added', 'modified', 'deleted']),
  /** The local file changed since the workspace was uploaded: applying would overwrite someone's work. */
  conflict: z.boolean(),
  /** The local file already holds the agent's version. */
  applied: z.boolean(),
});
export type ChatChange = z.infer<typeof ChatChange>;

export const ConnectionState = z.enum(['signed-out', 'connecting', 'connected', 'reconnecting']);
export type ConnectionState = z.infer<typeof ConnectionState>;

export const HostToWebview = z.discriminatedUnion('type', [
  /** Sent once after `ready`: where the view lives and who is signed in. */
  z.object({
    type: z.literal('init'),
    view: z.enum(['sidebar', 'editor']),
    user: z.object({ id: Id, displayName: z.string() }).nullable(),
  }),
  z.object({ type: z.literal('connection'), state: ConnectionState, detail: z.string().optional() }),
  /** The session shown (null: none is open). Resets the transcript when the id changes. */
  z.object({ type: z.literal('session'), session: Session.nullable(), canWrite: z.boolean() }),
  /** Events in seq order; `reset` replaces the transcript (a replay from seq 1). */
  z.object({ type: z.literal('events'), sessionId: Id, events: z.array(SessionEventNotification), reset: z.boolean() }),
  z.object({ type: z.literal('changes'), sessionId: Id, files: z.array(ChatChange) }),
  z.object({ type: z.literal('notice'), level: z.enum(['info', 'error']), message: z.string() }),
]);
export type HostToWebview = z.infer<typeof HostToWebview>;

const Code = z.string().max(1_000_000);

export const WebviewToHost = z.discriminatedUnion('type', [
  /** The webview loaded its script and can receive messages; the host posts nothing before this. */
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('prompt'), text: z.string().trim().min(1).max(200_000) }),
  z.object({ type: z.literal('abort') }),
  z.object({ type: z.literal('permission.reply'), permissionId: z.string().min(1).max(200), reply: z.enum(['once', 'always', 'reject']) }),
  z.object({
    type: z.literal('question.reply'),
    questionId: z.string().min(1).max(200),
    answers: z
      .array(z.array(z.string().max(1000)).max(50))
      .max(50)
      .nullable(),
  }),
  z.object({ type: z.literal('diff.open'), path: WorkspacePath }),
  /** Apply the agent's version of these files to the local workspace; no paths: every changed file. */
  z.object({ type: z.literal('changes.apply'), paths: z.array(WorkspacePath).max(20_000).optional() }),
  z.object({ type: z.literal('changes.refresh') }),
  z.object({ type: z.literal('code.insert'), code: Code }),
  z.object({ type: z.literal('code.copy'), code: Code }),
  z.object({ type: z.literal('command'), command: z.enum(['newSession', 'openSession', 'signIn']) }),
]);
export type WebviewToHost = z.infer<typeof WebviewToHost>;
