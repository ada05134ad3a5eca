import { describe, expect, it } from 'vitest';
import { escapeHtml, markdownToHtml } from '../../../extension/webview/markdown.js';

// The DOMPurify layer needs a DOM and is exercised in the browser; this is the first layer,
// which must already emit no markup of the model's own.
describe('assistant markdown', () => {
  it('renders ordinary markdown', () => {
    expect(markdownToHtml('**bold** and `code`')).toBe('<p><strong>bold</strong> and <code>code</code></p>\n');
    expect(markdownToHtml('- [x] done')).toContain('<li>☑ done</li>');
  });

  it.each([
    ['<script>alert(1)</script>', '<script'],
    ['<img src=x onerror=alert(1)>', '<img'],
    ['<iframe src="https://evil.example"></iframe>', '<iframe'],
    ['<a href="javascript:alert(1)" onclick="x()">z</a>', '<a href'],
    ['text <b onmouseover="x()">hover</b>', '<b '],
  ])('shows raw HTML as text: %s', (input, forbidden) => {
    const html = markdownToHtml(input);
    expect(html).not.toContain(forbidden);
    expect(html).toContain('&lt;');
  });

  it('keeps link text but no destination to navigate to', () => {
    const html = markdownToHtml('[docs](javascript:alert(1)) and <https://example.com> and ![pic](https://example.com/x.png)');
    expect(html).not.toMatch(/href|src=/);
    expect(html).toContain('<a class="md-link" title="javascript:alert(1)">docs</a>');
    expect(html).toContain('[image: pic]');
  });

  it('escapes code blocks and tags them with a safe language', () => {
    const html = markdownToHtml('```ts" onload="x\nconst a = "<b>";\n```\n\n```python\nprint(1)\n```');
    expect(html).toContain('<pre class="md-code" data-lang=""><code>const a = &quot;&lt;b&gt;&quot;;\n</code></pre>');
    expect(html).toContain('<code class="language-python">print(1)\n</code>');
  });

  it('escapes every HTML metacharacter', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});
