import type { SessionStatus, WebviewToHost } from '@switchboard/protocol';
import { button, h, show } from './dom.js';
import { formatCost } from './format.js';
import type { TranscriptState } from './transcript.js';

/** Everything around the transcript: header, banners, notices and the empty state. */
export interface Chrome {
  header: HTMLElement;
  banners: HTMLElement;
  empty: HTMLElement;
  update(state: TranscriptState): void;
  updateNotices(state: TranscriptState): void;
}

const STATUS_LABELS: Record<SessionStatus, string> = {
  idle: 'Idle',
  busy: 'Working…',
  retry: 'Retrying…',
  error: 'Error',
  archived: 'Archived',
};

export function createChrome(send: (message: WebviewToHost) => boolean, dismissNotice: (id: number) => void): Chrome {
  const command = (name: 'newSession' | 'openSession' | 'signIn') => () => send({ type: 'command', command: name });

  const title = h('div', { className: 'title', testId: 'title' });
  const spinner = h('span', { className: 'spinner', attrs: { 'aria-hidden': 'true' } });
  const statusLabel = h('span');
  const status = h('span', { className: 'status', testId: 'status', attrs: { role: 'status' } }, [spinner, statusLabel]);
  const statusDetail = h('div', { className: 'status-detail', testId: 'status-detail' });
  const cost = h('span', { className: 'session-cost', testId: 'session-cost', title: 'Spent in this session' });
  const header = h('header', { className: 'header' }, [h('div', { className: 'header-row' }, [title, cost, status]), statusDetail]);

  const connectionText = h('span');
  const signIn = button('Sign in', command('signIn'), { testId: 'sign-in', className: 'small' });
  const connection = h('div', { className: 'banner connection-banner', testId: 'connection-banner' }, [connectionText, signIn]);
  const readOnly = h('div', { className: 'banner readonly-banner', testId: 'readonly-banner' });
  const notices = h('div', { className: 'notices', attrs: { 'aria-live': 'polite' } });
  const banners = h('div', { className: 'banners' }, [connection, notices, readOnly]);

  const empty = h('div', { className: 'empty-state', testId: 'empty-state' }, [
    h('div', { className: 'empty-title', text: 'No session open' }),
    h('p', { text: 'Start an agent session, or open one of yours or your team’s.' }),
    h('div', { className: 'actions' }, [
      button('New session', command('newSession'), { testId: 'new-session' }),
      button('Open session…', command('openSession'), { testId: 'open-session', secondary: true }),
    ]),
  ]);

  return {
    header,
    banners,
    empty,
    update(state) {
      const session = state.session;
      title.textContent = session ? session.title : 'Switchboard';
      title.title = session ? `${session.title} · ${session.agent} · ${session.model}` : '';
      const running = state.status === 'busy' || state.status === 'retry';
      show(status, session !== null);
      status.dataset.status = state.status;
      statusLabel.textContent = STATUS_LABELS[state.status];
      show(spinner, running);
      statusDetail.textContent = state.statusDetail ?? '';
      show(statusDetail, session !== null && Boolean(state.statusDetail) && state.status !== 'idle');
      cost.textContent = state.usage.costMicros > 0 ? formatCost(state.usage.costMicros) : '';
      show(cost, state.usage.costMicros > 0);

      connection.dataset.state = state.connection;
      connectionText.textContent = connectionMessage(state.connection, state.connectionDetail);
      show(connection, state.connection !== 'connected');
      show(signIn, state.connection === 'signed-out');

      const archived = state.status === 'archived';
      readOnly.textContent = archived
        ? 'This session is archived; it can be read but not continued.'
        : 'Read-only: this is a teammate’s session.';
      show(readOnly, session !== null && (archived || !state.canWrite));
      // Until the host has spoken (init), an empty state would only flash.
      show(empty, session === null && state.view !== null);
    },
    updateNotices(state) {
      notices.replaceChildren(
        ...state.notices.map((notice) =>
          h('div', { className: `banner notice notice-${notice.level}`, testId: 'notice', data: { level: notice.level } }, [
            h('span', { text: notice.message }),
            button('Dismiss', () => dismissNotice(notice.id), { secondary: true, className: 'small', attrs: { 'aria-label': 'Dismiss' } }),
          ]),
        ),
      );
    },
  };
}

function connectionMessage(state: TranscriptState['connection'], detail: string | undefined): string {
  const base =
    state === 'signed-out'
      ? 'You are signed out of Switchboard.'
      : state === 'connecting'
        ? 'Connecting to Switchboard…'
        : state === 'reconnecting'
          ? 'Connection lost. Reconnecting…'
          : 'Connected.';
  return detail ? `${base} ${detail}` : base;
}
