import { MemoryContent, MemoryKey } from '@switchboard/protocol';
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { MemoryOwner, MemoryService } from '../memory/memory-service.js';
import { VERSION } from '../version.js';
import { type JsonRpcMessage, negotiateVersion, rpcError, rpcResult } from './jsonrpc.js';
import type { McpSession } from './session-auth.js';

/** Tool names as this server lists them; OpenCode prefixes the server's name (`memory_read`). */
const TOOLS = {
  list: {
    description: 'List your notes (key, size, last change).',
    input: z.object({}),
  },
  read: {
    description: 'Read one note by key.',
    input: z.object({ key: MemoryKey.describe('The note’s key') }),
  },
  write: {
    description: 'Save a note under a key, replacing what was there. Notes last across sessions.',
    input: z.object({ key: MemoryKey.describe('A short key, e.g. "build-commands"'), content: MemoryContent }),
  },
  delete: {
    description: 'Delete one note by key.',
    input: z.object({ key: MemoryKey.describe('The note’s key') }),
  },
} as const;
type ToolName = keyof typeof TOOLS;

const TOOL_LIST = Object.entries(TOOLS).map(([name, tool]) => {
  const { $schema: _, ...inputSchema } = z.toJSONSchema(tool.input) as Record<string, unknown>;
  return { name, description: tool.description, inputSchema };
});

const CallParams = z.looseObject({ name: z.string(), arguments: z.record(z.string(), z.unknown()).optional() });

const text = (value: string, isError = false) => ({ content: [{ type: 'text', text: value }], ...(isError ? { isError } : {}) });

/**
 * The memory MCP server the control plane gives every session of an agent with memory on: plain
 * JSON-RPC over HTTP (MCP's streamable-HTTP transport answered with `application/json`), stateless,
 * bound to the session's agent and user by the session key.
 */
export async function answerMemory(memory: MemoryService, session: McpSession, message: JsonRpcMessage): Promise<unknown> {
  const id = message.id ?? null;
  switch (message.method) {
    case 'initialize':
      return rpcResult(id, {
        protocolVersion: negotiateVersion(message.params),
        capabilities: { tools: { listChanged: false } },
        serverInfo: { name: 'switchboard-memory', version: VERSION },
        instructions: 'Durable notes for this agent and user, kept across sessions.',
      });
    case 'ping':
      return rpcResult(id, {});
    case 'tools/list':
      return rpcResult(id, { tools: TOOL_LIST });
    case 'tools/call': {
      const call = CallParams.safeParse(message.params);
      if (!call.success || !(call.data.name in TOOLS)) return rpcError(id, -32602, 'Unknown tool');
      return rpcResult(id, await callTool(memory, session, call.data.name as ToolName, call.data.arguments ?? {}));
    }
    default:
      return rpcError(id, -32601, `Method not found: ${message.method ?? '(none)'}`);
  }
}

async function callTool(memory: MemoryService, session: McpSession, name: ToolName, args: unknown) {
  const parsed = TOOLS[name].input.safeParse(args);
  if (!parsed.success) return text(`Invalid arguments: ${z.prettifyError(parsed.error)}`, true);
  const owner: MemoryOwner = { agentId: session.agentId as string, userId: session.userId, via: 'agent', sessionId: session.sessionId };
  const input = parsed.data as { key?: string; content?: string };
  try {
    switch (name) {
      case 'list': {
        const list = await memory.core.list(owner);
        if (list.items.length === 0) return text(`No notes yet (0 of ${list.limitBytes} bytes used).`);
        const lines = list.items.map((note) => `- ${note.key} (${note.bytes} bytes, ${note.updatedAt})`);
        return text(`${lines.join('\n')}\n${list.usedBytes} of ${list.limitBytes} bytes used.`);
      }
      case 'read':
        return text((await memory.core.read(owner, input.key as string)).content);
      case 'write': {
        const { note, usedBytes } = await memory.core.write(session.actor, owner, input.key as string, input.content as string);
        return text(`Saved "${note.key}" (${note.bytes} bytes; ${usedBytes} of ${memory.limits.totalBytes} bytes used).`);
      }
      case 'delete':
        await memory.core.remove(session.actor, owner, input.key as string);
        return text(`Deleted "${input.key}".`);
    }
  } catch (error) {
    if (error instanceof AppError) return text(error.message, true);
    throw error;
  }
}
