import type { WebviewToHost } from '@switchboard/protocol';
import { button, h, show } from './dom.js';
import { isBusy, type TranscriptState } from './transcript.js';

/** The prompt box: Enter sends, Shift+Enter breaks the line, Escape (or Stop) aborts a running turn. */
export interface Composer {
  element: HTMLElement;
  update(state: TranscriptState): void;
  draft(): string;
  setDraft(text: string): void;
  /** The host reported an error: a prompt that was just sent failed, so give its text back. */
  failed(): void;
}

/** How long a sent prompt blocks a second one while the agent has not reported busy yet. */
const SENDING_TIMEOUT_MS = 10_000;

export function createComposer(send: (message: WebviewToHost) => boolean, onDraftChange: () => void): Composer {
  const input = h('textarea', {
    className: 'composer-input',
    testId: 'composer-input',
    attrs: { rows: '2', 'aria-label': 'Message to the agent' },
  });
  const sendButton = button('Send', submit, { testId: 'send', title: 'Send (Enter)' });
  const abortButton = button('Stop', abort, { testId: 'abort', title: 'Stop the agent (Escape)', className: 'stop' });
  const hint = h('span', { className: 'composer-hint', text: 'Enter to send · Shift+Enter for a new line' });
  const element = h('form', { className: 'composer', testId: 'composer' }, [
    input,
    h('div', { className: 'composer-row' }, [hint, sendButton, abortButton]),
  ]);
  let writable = false;
  let busy = false;
  let connected = false;
  let sending: ReturnType<typeof setTimeout> | null = null;
  let sentText = '';
  let lastSeq = 0;
  let sentAtSeq = 0;

  function refreshButtons(): void {
    show(sendButton, !busy);
    show(abortButton, busy);
    sendButton.disabled = !writable || !connected || sending !== null || input.value.trim() === '';
    abortButton.disabled = !writable || !connected;
  }

  function stopSending(): void {
    if (sending !== null) clearTimeout(sending);
    sending = null;
  }

  function submit(): void {
    if (sendButton.disabled || busy) return;
    if (!send({ type: 'prompt', text: input.value })) return;
    sentText = input.value;
    sentAtSeq = lastSeq;
    input.value = '';
    sending = setTimeout(() => {
      sending = null;
      refreshButtons();
    }, SENDING_TIMEOUT_MS);
    onDraftChange();
    refreshButtons();
  }

  function abort(): void {
    if (!busy || abortButton.disabled) return;
    send({ type: 'abort' });
  }

  element.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener('input', () => {
    onDraftChange();
    refreshButtons();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  // Escape stops the turn from anywhere in the panel, not only from the text box.
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && busy) {
      event.preventDefault();
      abort();
    }
  });

  return {
    element,
    update(state) {
      const nowBusy = isBusy(state);
      lastSeq = state.lastSeq;
      if (nowBusy !== busy || lastSeq !== sentAtSeq) stopSending();
      busy = nowBusy;
      writable = state.session !== null && state.canWrite && state.status !== 'archived';
      connected = state.connection === 'connected';
      input.disabled = !writable;
      input.placeholder = !state.session
        ? ''
        : state.status === 'archived'
          ? 'This session is archived.'
          : !state.canWrite
            ? 'Read-only: a teammate’s session.'
            : busy
              ? 'The agent is working… (Escape to stop)'
              : 'Ask the agent…';
      show(element, state.session !== null);
      show(hint, writable);
      refreshButtons();
    },
    draft() {
      return input.value;
    },
    setDraft(text) {
      input.value = text;
      refreshButtons();
    },
    failed() {
      if (sending === null) return;
      stopSending();
      if (input.value === '') input.value = sentText;
      onDraftChange();
      refreshButtons();
    },
  };
}
