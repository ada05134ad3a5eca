import type { ErrorCode } from '@switchboard/protocol';

/** Integer micro-dollars ($1 = 1,000,000) as dollars: four decimals below a dollar, two above. */
export function formatCost(micros: number): string {
  const dollars = micros / 1_000_000;
  if (micros > 0 && dollars < 0.0001) return '<$0.0001';
  return dollars >= 1 ? `$${dollars.toFixed(2)}` : `$${dollars.toFixed(4)}`;
}

/** Token counts the way a status line shows them: 950, 12.3k, 4.5M. */
export function formatTokens(count: number): string {
  if (count < 1000) return String(count);
  if (count < 1_000_000) return `${trimZero((count / 1000).toFixed(1))}k`;
  return `${trimZero((count / 1_000_000).toFixed(1))}M`;
}

function trimZero(value: string): string {
  return value.endsWith('.0') ? value.slice(0, -2) : value;
}

export function formatUsage(usage: { inputTokens: number; outputTokens: number; costMicros: number }): string {
  return `${formatTokens(usage.inputTokens)} in · ${formatTokens(usage.outputTokens)} out · ${formatCost(usage.costMicros)}`;
}

/** Input fields that say best what a tool call acts on, most telling first. */
const SUMMARY_KEYS = ['command', 'filePath', 'path', 'pattern', 'url', 'query', 'description', 'prompt', 'file'];

/** One short line for a tool card's title: `npm test`, `src/app.ts`, or compact JSON as a last resort. */
export function summarizeToolInput(input: unknown, max = 80): string {
  if (input === undefined || input === null) return '';
  if (typeof input === 'string') return clip(oneLine(input), max);
  if (typeof input !== 'object') return clip(String(input), max);
  const record = input as Record<string, unknown>;
  // OpenCode's question tool: show what it asks, not its JSON.
  const questions = record.questions;
  if (Array.isArray(questions) && typeof questions[0]?.question === 'string') {
    const more = questions.length > 1 ? ` (+${questions.length - 1} more)` : '';
    return clip(`${oneLine(questions[0].question)}${more}`, max);
  }
  for (const key of SUMMARY_KEYS) {
    const value = record[key];
    if (typeof value === 'string' && value.trim()) return clip(oneLine(value), max);
  }
  const json = safeJson(input);
  return json === '{}' ? '' : clip(json, max);
}

export function safeJson(value: unknown, indent?: number): string {
  try {
    return JSON.stringify(value, null, indent) ?? String(value);
  } catch {
    return String(value);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const ERROR_TITLES: Record<ErrorCode, string> = {
  BAD_REQUEST: 'Request rejected',
  UNAUTHORIZED: 'Not signed in',
  FORBIDDEN: 'Not allowed',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  PAYLOAD_TOO_LARGE: 'Too large',
  RATE_LIMITED: 'Slow down',
  BUDGET_EXCEEDED: 'Budget reached',
  HARNESS_UNAVAILABLE: 'Agent unavailable',
  UPSTREAM_ERROR: 'Model provider error',
  UNAVAILABLE: 'Service unavailable',
  INTERNAL: 'Something went wrong',
};

export function errorTitle(code: ErrorCode): string {
  return ERROR_TITLES[code];
}

const DECIDERS = { user: 'by the user', policy: 'by the approval policy', timeout: '', system: 'by the system' } as const;

export function describePermissionReply(reply: 'once' | 'always' | 'reject', by: keyof typeof DECIDERS, reason?: string): string {
  const verdict = reply === 'once' ? 'Allowed once' : reply === 'always' ? 'Always allowed' : 'Rejected';
  const who = by === 'timeout' ? `${verdict}: no answer in time` : `${verdict} ${DECIDERS[by]}`;
  return reason ? `${who} (${reason})` : who;
}

export function describeAnswer(answers: string[][] | null, by: 'user' | 'timeout' | 'system'): string {
  if (by === 'timeout') return 'No answer in time';
  if (answers === null) return by === 'system' ? 'Dismissed' : 'Declined';
  const chosen = answers.map((list) => list.join(', ')).filter(Boolean);
  return chosen.length > 0 ? `Answered: ${chosen.join(' / ')}` : 'Answered';
}
