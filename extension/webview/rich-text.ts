import DOMPurify, { type Config } from 'dompurify';
import { button, h } from './dom.js';
import { markdownToHtml } from './markdown.js';

/** What the Copy and Insert buttons of a code block do with its text. */
export interface CodeActions {
  copy(code: string): void;
  insert(code: string): void;
}

/** The only markup assistant text may produce; everything else, and every other attribute, is dropped. */
const PURIFY: Config & { RETURN_DOM_FRAGMENT: true } = {
  ALLOWED_TAGS: [
    'p',
    'br',
    'hr',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'strong',
    'em',
    'del',
    'code',
    'pre',
    'blockquote',
    'ul',
    'ol',
    'li',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
    'a',
    'span',
  ],
  ALLOWED_ATTR: ['class', 'title', 'align', 'start', 'data-lang'],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};

/** Markdown as sanitized DOM, with a toolbar on each code block. */
export function renderMarkdown(markdown: string, actions: CodeActions): DocumentFragment {
  const fragment = DOMPurify.sanitize(markdownToHtml(markdown), PURIFY);
  for (const pre of fragment.querySelectorAll('pre')) decorateCodeBlock(pre, actions);
  return fragment;
}

function decorateCodeBlock(pre: HTMLPreElement, actions: CodeActions): void {
  const code = () => (pre.textContent ?? '').replace(/\n$/, '');
  const copy = button(
    'Copy',
    () => {
      actions.copy(code());
      copy.textContent = 'Copied';
      setTimeout(() => {
        copy.textContent = 'Copy';
      }, 1500);
    },
    { secondary: true, className: 'small', testId: 'code-copy', title: 'Copy to the clipboard' },
  );
  const insert = button('Insert', () => actions.insert(code()), {
    secondary: true,
    className: 'small',
    testId: 'code-insert',
    title: 'Insert at the cursor of the active editor',
  });
  const lang = pre.dataset.lang ?? '';
  const toolbar = h('div', { className: 'code-toolbar' }, [h('span', { className: 'code-lang', text: lang }), copy, insert]);
  const wrapper = h('div', { className: 'code-block', testId: 'code-block' });
  pre.replaceWith(wrapper);
  wrapper.append(toolbar, pre);
}
