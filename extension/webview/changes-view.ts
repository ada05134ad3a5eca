import { type ChatChange, WebviewToHost } from '@switchboard/protocol';
import { button, h, show } from './dom.js';

/** The files the agent changed, with diff and apply actions; hidden until the host sends a list. */
export interface ChangesView {
  element: HTMLElement;
  update(changes: ChatChange[] | null): void;
}

const STATUS_LETTERS = { added: 'A', modified: 'M', deleted: 'D' } as const;
const MAX_ROWS = 500;

export function createChangesView(send: (message: WebviewToHost) => boolean): ChangesView {
  const count = h('span', { className: 'changes-title' });
  const refresh = button('Refresh', () => send({ type: 'changes.refresh' }), {
    secondary: true,
    className: 'small',
    testId: 'changes-refresh',
    title: 'Ask the agent’s workspace for its changed files again',
  });
  const applyAll = button('Apply all', () => send({ type: 'changes.apply' }), {
    className: 'small',
    testId: 'apply-all',
    title: 'Write the agent’s version of every changed file into your workspace; files changed locally are not overwritten',
  });
  const list = h('ul', { className: 'change-list' });
  const toggle = h('button', { className: 'changes-toggle', attrs: { type: 'button', 'aria-expanded': 'true' } }, [count]);
  toggle.addEventListener('click', () => {
    const expanded = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(expanded));
    show(list, expanded);
  });
  const element = h('section', { className: 'changes', testId: 'changes', attrs: { 'aria-label': 'Changed files' } }, [
    h('div', { className: 'changes-head' }, [toggle, refresh, applyAll]),
    list,
  ]);
  show(element, false);

  function row(change: ChatChange): HTMLElement {
    const openDiff: WebviewToHost = { type: 'diff.open', path: change.path };
    const valid = WebviewToHost.safeParse(openDiff).success;
    return h(
      'li',
      {
        className: `change-row status-${change.status}${change.conflict ? ' conflict' : ''}`,
        testId: 'change-row',
        data: { path: change.path, status: change.status, conflict: String(change.conflict), applied: String(change.applied) },
      },
      [
        h('span', { className: `badge change-status status-${change.status}`, text: STATUS_LETTERS[change.status], title: change.status }),
        h('span', { className: 'change-path', text: change.path, title: change.path }),
        h('span', { className: 'row-actions' }, [
          button('Open diff', () => send(openDiff), { secondary: true, className: 'small', testId: 'change-diff', disabled: !valid }),
          button('Apply', () => send({ type: 'changes.apply', paths: [change.path] }), {
            secondary: true,
            className: 'small',
            testId: 'change-apply',
            disabled: !valid || change.applied,
          }),
        ]),
        change.conflict
          ? h('span', {
              className: 'change-note conflict-marker',
              testId: 'conflict',
              text: 'changed locally since upload — not overwritten',
            })
          : null,
        change.applied ? h('span', { className: 'change-note applied-marker', testId: 'applied', text: 'applied' }) : null,
      ],
    );
  }

  return {
    element,
    update(changes) {
      show(element, changes !== null);
      if (changes === null) return;
      count.textContent = changes.length === 0 ? 'No changed files' : `Changed files (${changes.length})`;
      const rows = changes.slice(0, MAX_ROWS).map(row);
      if (changes.length > MAX_ROWS) rows.push(h('li', { className: 'hint', text: `… and ${changes.length - MAX_ROWS} more` }));
      list.replaceChildren(...rows);
      applyAll.disabled = changes.every((change) => change.applied);
    },
  };
}
