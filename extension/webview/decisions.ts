import type { QuestionSpec } from '@switchboard/protocol';
import { button, h } from './dom.js';
import { describeAnswer, describePermissionReply } from './format.js';
import type { ItemContext } from './items.js';
import type { PermissionItem, QuestionItem } from './transcript.js';

/** Cards that wait for the user: permission requests and questions. */

const REPLIES = [
  { reply: 'once', label: 'Allow once', testId: 'permission-once' },
  { reply: 'always', label: 'Always', testId: 'permission-always' },
  { reply: 'reject', label: 'Reject', testId: 'permission-reject' },
] as const;

export function renderPermission(item: PermissionItem, context: ItemContext): HTMLElement {
  const sent = context.sent.has(item.key);
  const buttons = REPLIES.map(({ reply, label, testId }) => {
    const chosen = item.reply?.reply === reply;
    const element = button(
      label,
      () => {
        if (!context.send({ type: 'permission.reply', permissionId: item.permissionId, reply })) return;
        context.sent.add(item.key);
        context.refresh(item);
      },
      { testId, secondary: reply !== 'once', className: chosen ? 'chosen' : '', disabled: item.reply !== null || sent || !context.canAct },
    );
    element.setAttribute('aria-pressed', String(chosen));
    return element;
  });
  const note = item.reply
    ? describePermissionReply(item.reply.reply, item.reply.by, item.reply.reason)
    : sent
      ? 'Reply sent…'
      : context.canAct
        ? `Waiting for your answer · expires ${formatTime(item.expiresAt)}`
        : `Waiting for the session owner · expires ${formatTime(item.expiresAt)}`;
  const patterns =
    item.patterns.length > 0
      ? h(
          'ul',
          { className: 'patterns' },
          item.patterns.map((p) => h('li', {}, [h('code', { text: p })])),
        )
      : null;
  const state = item.reply?.reply ?? 'pending';
  return h(
    'div',
    {
      className: `card permission-card ${item.reply ? 'resolved' : 'pending'}`,
      testId: 'permission-card',
      data: { permissionId: item.permissionId, state },
    },
    [
      h('div', { className: 'card-head' }, [
        h('span', { className: 'card-label', text: 'Permission' }),
        h('span', { className: 'badge', text: item.tool }),
      ]),
      h('div', { className: 'card-title', text: item.title }),
      patterns,
      h('div', { className: 'actions' }, buttons),
      h('div', { className: 'resolution', testId: 'permission-resolution', text: note }),
    ],
  );
}

export function renderQuestion(item: QuestionItem, context: ItemContext): HTMLElement {
  const sent = context.sent.has(item.key);
  const locked = item.answer !== null || sent || !context.canAct;
  const draft = context.drafts.get(item.questionId) ?? item.questions.map(() => []);
  const chosen = item.answer ? (item.answer.answers ?? []) : draft;
  const submit = button('Submit', () => reply(draft), { testId: 'question-submit', disabled: locked || !complete(item.questions, draft) });
  const decline = button('Decline', () => reply(null), { testId: 'question-decline', secondary: true, disabled: locked });

  function reply(answers: string[][] | null): void {
    if (!context.send({ type: 'question.reply', questionId: item.questionId, answers })) return;
    context.sent.add(item.key);
    context.refresh(item);
  }

  function choose(index: number, label: string, checked: boolean, multiple: boolean): void {
    const current = draft[index] ?? [];
    draft[index] = multiple ? (checked ? [...current, label] : current.filter((value) => value !== label)) : [label];
    context.drafts.set(item.questionId, draft);
    submit.disabled = locked || !complete(item.questions, draft);
  }

  const fieldsets = item.questions.map((question, index) => {
    const name = `q-${item.questionId}-${index}`;
    const options = question.options.map((option) => {
      const input = h('input', { attrs: { type: question.multiple ? 'checkbox' : 'radio', name, value: option.label } });
      input.checked = chosen[index]?.includes(option.label) ?? false;
      input.disabled = locked;
      input.addEventListener('change', () => choose(index, option.label, input.checked, question.multiple));
      return h('label', { className: 'option' }, [
        input,
        h('span', { className: 'option-label', text: option.label }),
        option.description ? h('span', { className: 'option-description', text: option.description }) : null,
      ]);
    });
    return h('fieldset', { className: 'question' }, [
      h('legend', { text: question.header || `Question ${index + 1}` }),
      h('div', { className: 'question-text', text: question.question }),
      question.multiple ? h('div', { className: 'hint', text: 'Choose any' }) : null,
      ...options,
    ]);
  });
  const note = item.answer
    ? describeAnswer(item.answer.answers, item.answer.by)
    : sent
      ? 'Answer sent…'
      : context.canAct
        ? `Expires ${formatTime(item.expiresAt)}`
        : 'Waiting for the session owner';
  return h(
    'div',
    {
      className: `card question-card ${item.answer ? 'resolved' : 'pending'}`,
      testId: 'question-card',
      data: { questionId: item.questionId, state: item.answer ? 'answered' : 'pending' },
    },
    [
      h('div', { className: 'card-head' }, [h('span', { className: 'card-label', text: 'Question' })]),
      ...fieldsets,
      h('div', { className: 'actions' }, [submit, decline]),
      h('div', { className: 'resolution', testId: 'question-resolution', text: note }),
    ],
  );
}

/** Every single-choice question needs an answer; a multiple-choice one may stay empty. */
function complete(questions: QuestionSpec[], draft: string[][]): boolean {
  return questions.every((question, index) => question.multiple || (draft[index]?.length ?? 0) > 0);
}

function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
