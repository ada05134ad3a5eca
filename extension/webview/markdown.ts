import { Marked, type Tokens } from 'marked';

/**
 * Model output as HTML, in two layers: this renderer never emits raw HTML, URLs or images
 * (raw HTML shows as text, links keep their text and show the URL as a tooltip), and the
 * caller still runs the result through DOMPurify (see sanitize.ts) before it touches the DOM.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

const marked = new Marked({
  async: false,
  gfm: true,
  breaks: false,
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag): string {
      const text = escapeHtml(token.text);
      return token.block ? `<p>${text}</p>\n` : text;
    },
    link(token: Tokens.Link): string {
      const text = this.parser.parseInline(token.tokens);
      return `<a class="md-link" title="${escapeHtml(token.href)}">${text}</a>`;
    },
    image(token: Tokens.Image): string {
      const label = token.text || token.href;
      return `<span class="md-image" title="${escapeHtml(token.href)}">[image: ${escapeHtml(label)}]</span>`;
    },
    code(token: Tokens.Code): string {
      const lang = /^[\w+#.-]{1,30}$/.test(token.lang ?? '') ? (token.lang ?? '') : '';
      const langClass = lang ? ` class="language-${escapeHtml(lang)}"` : '';
      const code = token.text.endsWith('\n') ? token.text : `${token.text}\n`;
      return `<pre class="md-code" data-lang="${escapeHtml(lang)}"><code${langClass}>${escapeHtml(code)}</code></pre>\n`;
    },
    checkbox(token: Tokens.Checkbox): string {
      return token.checked ? '☑ ' : '☐ ';
    },
  },
});

/** Markdown to an HTML string with no model-supplied markup in it. Still sanitize before use. */
export function markdownToHtml(markdown: string): string {
  return marked.parse(markdown, { async: false });
}
