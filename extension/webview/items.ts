import { WebviewToHost } from '@switchboard/protocol';
import { button, h } from './dom.js';
import { clip, errorTitle, safeJson, summarizeToolInput } from './format.js';
import { type CodeActions, renderMarkdown } from './rich-text.js';
import type { EditItem, ErrorItem, TextItem, ToolItem, TranscriptItem } from './transcript.js';

/** What item renderers need from the view: sending, local UI state, and a way to redraw an item. */
export interface ItemContext {
  /** The user may act in this session: write access, and the session is not archived. */
  canAct: boolean;
  send(message: WebviewToHost): boolean;
  code: CodeActions;
  /** Keys of permission and question items whose reply was sent and is not confirmed yet. */
  sent: Set<string>;
  /** Choices made in open questions, by question id, one list of labels per question. */
  drafts: Map<string, string[][]>;
  refresh(item: TranscriptItem): void;
}

const MAX_OUTPUT_CHARS = 50_000;
const MAX_DIFF_LINES = 2_000;
const TOOL_LABELS = { pending: 'pending', running: 'running', completed: 'done', error: 'error' } as const;

export function renderText(item: TextItem, context: ItemContext): HTMLElement {
  if (item.kind === 'text') {
    const body = h('div', { className: 'assistant-text markdown', testId: 'assistant-text' });
    updateText(body, item, context);
    return body;
  }
  const body = h('div', { className: 'markdown reasoning-body' });
  updateText(body, item, context);
  return h('details', { className: 'reasoning', testId: 'reasoning', data: { keep: 'reasoning' } }, [
    h('summary', { text: 'Thinking' }),
    body,
  ]);
}

/** Streams into an existing text element: only its markdown is redrawn, the element stays. */
export function updateText(element: HTMLElement, item: TextItem, context: ItemContext): void {
  const body = element.classList.contains('markdown') ? element : element.querySelector<HTMLElement>('.markdown');
  body?.replaceChildren(renderMarkdown(item.text, context.code));
}

export function renderTool(item: ToolItem): HTMLElement {
  const summary = summarizeToolInput(item.input);
  const badge = h('span', { className: `badge state-${item.state}`, text: TOOL_LABELS[item.state] });
  if (item.state === 'running' || item.state === 'pending')
    badge.prepend(h('span', { className: 'spinner', attrs: { 'aria-hidden': 'true' } }));
  const head = h('div', { className: 'card-head' }, [
    h('span', { className: 'tool-name', text: item.tool }),
    h('span', { className: 'tool-args', text: summary, title: summary }),
    badge,
  ]);
  const input = item.input === undefined ? null : collapsible('Input', safeJson(item.input, 2), 'input');
  const output = item.output ? collapsible('Output', clipOutput(item.output), 'output') : null;
  const error = item.error ? h('div', { className: 'tool-error', testId: 'tool-error', text: clip(item.error, MAX_OUTPUT_CHARS) }) : null;
  return h(
    'div',
    { className: `card tool-card state-${item.state}`, testId: 'tool-card', data: { state: item.state, callId: item.callId } },
    [head, error, input, output],
  );
}

function clipOutput(output: string): string {
  return output.length <= MAX_OUTPUT_CHARS
    ? output
    : `${output.slice(0, MAX_OUTPUT_CHARS)}\n… (${output.length - MAX_OUTPUT_CHARS} more characters)`;
}

function collapsible(label: string, text: string, keep: string): HTMLElement {
  return h('details', { className: 'collapsible', data: { keep } }, [
    h('summary', { text: label }),
    h('pre', { className: 'output', text }),
  ]);
}

export function renderEdit(item: EditItem, context: ItemContext): HTMLElement {
  const message: WebviewToHost = { type: 'diff.open', path: item.path };
  const openable = WebviewToHost.safeParse(message).success;
  const open = button('Open diff', () => context.send(message), {
    secondary: true,
    className: 'small',
    testId: 'open-diff',
    disabled: !openable,
  });
  const head = h('div', { className: 'card-head' }, [
    h('span', { className: 'card-label', text: 'Edited' }),
    h('code', { className: 'path', text: item.path, title: item.path }),
    open,
  ]);
  const diff = item.diff
    ? h('details', { className: 'collapsible', data: { keep: 'diff' } }, [h('summary', { text: 'Diff' }), renderDiff(item.diff)])
    : null;
  return h('div', { className: 'card edit-card', testId: 'edit-card', data: { path: item.path } }, [head, diff]);
}

function renderDiff(diff: string): HTMLElement {
  const lines = diff.split('\n');
  const pre = h('pre', { className: 'diff' });
  for (const line of lines.slice(0, MAX_DIFF_LINES)) pre.append(h('span', { className: diffClass(line), text: `${line}\n` }));
  if (lines.length > MAX_DIFF_LINES)
    pre.append(h('span', { className: 'diff-meta', text: `… ${lines.length - MAX_DIFF_LINES} more lines` }));
  return pre;
}

function diffClass(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('Index:') || line.startsWith('===')) return 'diff-meta';
  if (line.startsWith('@@')) return 'diff-hunk';
  if (line.startsWith('+')) return 'diff-add';
  if (line.startsWith('-')) return 'diff-del';
  return 'diff-context';
}

export function renderError(item: ErrorItem): HTMLElement {
  const details =
    item.details && Object.keys(item.details).length > 0
      ? h('details', { className: 'collapsible', data: { keep: 'details' } }, [
          h('summary', { text: 'Details' }),
          h('pre', { className: 'output', text: safeJson(item.details, 2) }),
        ])
      : null;
  return h('div', { className: 'card error-card', testId: 'error-card', data: { code: item.code } }, [
    h('div', { className: 'card-head' }, [h('span', { className: 'error-title', text: errorTitle(item.code) })]),
    h('div', { className: 'error-message', text: item.message }),
    details,
  ]);
}
