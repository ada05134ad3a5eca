import type { HostToWebview } from '@switchboard/protocol';
import { createChangesView } from './changes-view.js';
import { createChrome } from './chrome.js';
import { createComposer } from './composer.js';
import type { ItemContext } from './items.js';
import {
  applyHostMessage,
  createTranscriptState,
  dismissNotice,
  isBusy,
  type Patch,
  type TranscriptItem,
  type Turn,
} from './transcript.js';
import { createTranscriptView } from './transcript-view.js';
import type { HostChannel, SavedState } from './vscode-api.js';

/**
 * The whole panel: feeds host messages to the reducer, collects the patches, and draws them once
 * per animation frame, so a burst of deltas costs one redraw of the blocks it touched.
 */
export interface ChatView {
  receive(message: HostToWebview): void;
}

const SAVE_DELAY_MS = 250;
const INFO_NOTICE_MS = 8_000;

export function createChatView(root: HTMLElement, host: HostChannel): ChatView {
  const state = createTranscriptState();
  const sent = new Set<string>();
  const drafts = new Map<string, string[][]>();
  let pending = emptyPending();
  let frame: number | null = null;
  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  let restore: SavedState | null = host.saved;
  let restoreDue = false;
  let canActBefore = false;

  const send = host.send;
  const chrome = createChrome(send, (id) => queue(dismissNotice(state, id)));
  const transcript = createTranscriptView(scheduleSave);
  const changes = createChangesView(send);
  const composer = createComposer(send, scheduleSave);
  if (host.saved) composer.setDraft(host.saved.draft);
  root.replaceChildren(chrome.header, chrome.banners, chrome.empty, transcript.element, changes.element, composer.element);

  const context: ItemContext = {
    get canAct() {
      return canAct();
    },
    send,
    code: {
      copy: (code) => send({ type: 'code.copy', code }),
      insert: (code) => send({ type: 'code.insert', code }),
    },
    sent,
    drafts,
    refresh(item) {
      const found = state.index.get(item.key);
      if (found) queue([{ kind: 'item', turn: found.turn, item: found.item }]);
    },
  };

  function canAct(): boolean {
    return state.session !== null && state.canWrite && state.status !== 'archived';
  }

  function queue(patches: Patch[]): void {
    for (const patch of patches) {
      if (patch.kind === 'reset') pending = { ...emptyPending(), reset: true, meta: true, changes: true, notices: pending.notices };
      else if (patch.kind === 'meta') pending.meta = true;
      else if (patch.kind === 'changes') pending.changes = true;
      else if (patch.kind === 'notices') pending.notices = true;
      else if (pending.reset) continue;
      else if (patch.kind === 'turn') pending.turns.add(patch.turn);
      else pending.items.set(patch.item, patch.turn);
    }
    if (frame === null) frame = requestAnimationFrame(flush);
  }

  function flush(): void {
    frame = null;
    const batch = pending;
    pending = emptyPending();
    const userId = state.user?.id ?? null;
    if (batch.reset) {
      transcript.clear();
      for (const turn of state.turns) {
        transcript.renderTurn(turn, userId);
        for (const item of turn.items) transcript.renderItem(turn, item, context);
      }
    } else {
      for (const turn of batch.turns) transcript.renderTurn(turn, userId);
      for (const [item, turn] of batch.items) transcript.renderItem(turn, item, context);
    }
    if (batch.meta) updateMeta(batch.reset);
    if (batch.changes) changes.update(state.changes);
    if (batch.notices) chrome.updateNotices(state);
    composer.update(state);
    if (restore && restoreDue) {
      if (restore.sessionId === state.session?.id) transcript.restoreScroll(restore.scrollTop, restore.atBottom);
      restore = null;
      return;
    }
    transcript.settle();
  }

  function updateMeta(reset: boolean): void {
    chrome.update(state);
    transcript.setBusy(isBusy(state));
    transcript.element.hidden = state.session === null;
    if (state.view) document.body.dataset.view = state.view;
    const now = canAct();
    if (now === canActBefore || reset) {
      canActBefore = now;
      return;
    }
    canActBefore = now;
    // Write access changed: open permission and question cards must enable or disable their buttons.
    for (const { turn, item } of state.index.values()) {
      if (isOpenDecision(item)) transcript.renderItem(turn, item, context);
    }
  }

  function scheduleSave(): void {
    if (saveTimer !== null) clearTimeout(saveTimer);
    saveTimer = setTimeout(save, SAVE_DELAY_MS);
  }

  function save(): void {
    saveTimer = null;
    // A scroll position restored later must belong to the session it was taken in.
    const position = restore ?? { sessionId: state.session?.id ?? null, ...transcript.scrollState() };
    host.save({ ...position, draft: composer.draft() });
  }

  window.addEventListener('pagehide', save);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') save();
  });

  return {
    receive(message) {
      const patches = applyHostMessage(state, message);
      if (message.type === 'session' && restore && restore.sessionId !== message.session?.id) restore = null;
      if (message.type === 'events') restoreDue = true;
      if (patches.some((patch) => patch.kind === 'reset')) {
        sent.clear();
        drafts.clear();
      }
      if (message.type === 'notice' && message.level === 'info') {
        const id = state.nextNoticeId - 1;
        setTimeout(() => queue(dismissNotice(state, id)), INFO_NOTICE_MS);
      }
      if (message.type === 'notice' && message.level === 'error') {
        composer.failed();
        // A reply that failed must be possible to send again.
        const unconfirmed = [...sent];
        sent.clear();
        for (const key of unconfirmed) {
          const found = state.index.get(key);
          if (found) patches.push({ kind: 'item', turn: found.turn, item: found.item });
        }
      }
      queue(patches);
    },
  };
}

function isOpenDecision(item: TranscriptItem): boolean {
  return (item.kind === 'permission' && item.reply === null) || (item.kind === 'question' && item.answer === null);
}

function emptyPending(): {
  reset: boolean;
  meta: boolean;
  changes: boolean;
  notices: boolean;
  turns: Set<Turn>;
  items: Map<TranscriptItem, Turn>;
} {
  return { reset: false, meta: false, changes: false, notices: false, turns: new Set(), items: new Map() };
}
