import { renderPermission, renderQuestion } from './decisions.js';
import { button, h, show } from './dom.js';
import { formatUsage } from './format.js';
import { type ItemContext, renderEdit, renderError, renderText, renderTool, updateText } from './items.js';
import type { TranscriptItem, Turn } from './transcript.js';

/**
 * The scrolling list of turns. Turns and items are only ever appended or redrawn in place, found
 * through maps keyed by the state's own objects, so a streamed delta touches one element.
 */
export interface TranscriptView {
  /** The scroller and its "jump to latest" button. */
  element: HTMLElement;
  clear(): void;
  renderTurn(turn: Turn, userId: string | null): void;
  renderItem(turn: Turn, item: TranscriptItem, context: ItemContext): void;
  /** After a batch of updates: keep the bottom in view unless the user scrolled away from it. */
  settle(): void;
  scrollState(): { scrollTop: number; atBottom: boolean };
  restoreScroll(scrollTop: number, atBottom: boolean): void;
  setBusy(busy: boolean): void;
}

interface TurnElements {
  root: HTMLElement;
  items: HTMLElement;
  usage: HTMLElement;
}

const BOTTOM_SLACK_PX = 24;

export function createTranscriptView(onScroll: () => void): TranscriptView {
  const scroller = h('div', {
    className: 'transcript',
    testId: 'transcript',
    attrs: { role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation', tabindex: '0' },
  });
  const latest = button('↓ Latest', () => scrollToBottom(), { secondary: true, className: 'small latest', testId: 'scroll-bottom' });
  const element = h('div', { className: 'transcript-wrap' }, [scroller, latest]);
  show(latest, false);
  let turns = new WeakMap<Turn, TurnElements>();
  let items = new WeakMap<TranscriptItem, HTMLElement>();
  let atBottom = true;

  scroller.addEventListener('scroll', () => {
    atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= BOTTOM_SLACK_PX;
    show(latest, !atBottom);
    onScroll();
  });

  function scrollToBottom(): void {
    atBottom = true;
    scroller.scrollTop = scroller.scrollHeight;
  }

  function ensureTurn(turn: Turn, userId: string | null): TurnElements {
    const existing = turns.get(turn);
    if (existing) return existing;
    const itemsElement = h('div', { className: 'turn-items' });
    const usage = h('div', { className: 'turn-usage', testId: 'usage' });
    const prompt = turn.prompt
      ? h('div', { className: 'user-prompt', testId: 'user-prompt' }, [
          h('div', { className: 'prompt-author', text: userId !== null && turn.prompt.userId !== userId ? 'Teammate' : 'You' }),
          h('div', { className: 'prompt-text', text: turn.prompt.text }),
        ])
      : null;
    const root = h('section', { className: 'turn', testId: 'turn', data: { turnId: turn.id } }, [prompt, itemsElement, usage]);
    scroller.append(root);
    const created = { root, items: itemsElement, usage };
    turns.set(turn, created);
    return created;
  }

  return {
    element,
    clear() {
      scroller.replaceChildren();
      turns = new WeakMap();
      items = new WeakMap();
    },
    renderTurn(turn, userId) {
      const { usage } = ensureTurn(turn, userId);
      const used = turn.usage.inputTokens + turn.usage.outputTokens + turn.usage.costMicros > 0;
      usage.textContent = used ? formatUsage(turn.usage) : '';
      show(usage, used);
    },
    renderItem(turn, item, context) {
      const previous = items.get(item);
      if (previous && (item.kind === 'text' || item.kind === 'reasoning')) {
        updateText(previous, item, context);
        return;
      }
      const next = renderItemElement(item, context);
      items.set(item, next);
      if (!previous) {
        ensureTurn(turn, null).items.append(next);
        return;
      }
      keepOpenState(previous, next);
      previous.replaceWith(next);
    },
    settle() {
      if (atBottom) scrollToBottom();
    },
    scrollState() {
      return { scrollTop: scroller.scrollTop, atBottom };
    },
    restoreScroll(scrollTop, bottom) {
      if (bottom) {
        scrollToBottom();
        return;
      }
      atBottom = false;
      show(latest, true);
      scroller.scrollTop = scrollTop;
    },
    setBusy(busy) {
      scroller.setAttribute('aria-busy', String(busy));
    },
  };
}

function renderItemElement(item: TranscriptItem, context: ItemContext): HTMLElement {
  switch (item.kind) {
    case 'text':
    case 'reasoning':
      return renderText(item, context);
    case 'tool':
      return renderTool(item);
    case 'edit':
      return renderEdit(item, context);
    case 'permission':
      return renderPermission(item, context);
    case 'question':
      return renderQuestion(item, context);
    case 'error':
      return renderError(item);
  }
}

/** A redrawn card keeps the sections the user expanded. */
function keepOpenState(previous: HTMLElement, next: HTMLElement): void {
  const open = new Set<string>();
  for (const details of previous.querySelectorAll<HTMLDetailsElement>('details[data-keep]')) {
    if (details.open && details.dataset.keep) open.add(details.dataset.keep);
  }
  if (open.size === 0) return;
  for (const details of next.querySelectorAll<HTMLDetailsElement>('details[data-keep]')) {
    if (details.dataset.keep && open.has(details.dataset.keep)) details.open = true;
  }
}
