import { describe, expect, it } from 'vitest';
import { RenameChatBody } from '../../contract/index.js';
import { titleFromQuestion } from './chat.service.js';

describe('titleFromQuestion (a new chat’s automatic title)', () => {
  it('turns control characters, C1 included, into spaces and makes one line', () => {
    expect(titleFromQuestion('weight\u001b[2J\u0007 check\u0085')).toBe('weight [2J check');
    expect(titleFromQuestion('  line one\r\n\tline two\u2028three\u007f \u009b ')).toBe('line one line two three');
  });

  it('cuts at 80 UTF-16 units without splitting a surrogate pair or a grapheme', () => {
    const a79 = 'a'.repeat(79);
    expect(titleFromQuestion(`${a79}😀 more`)).toBe(a79);
    expect(titleFromQuestion(`${'a'.repeat(78)}😀 more`)).toBe(`${'a'.repeat(78)}😀`);
    // A family emoji (a ZWJ sequence, 5 units) and an accented letter (e + combining acute) stay whole.
    expect(titleFromQuestion(`${'b'.repeat(76)}👩‍👧 x`)).toBe('b'.repeat(76));
    expect(titleFromQuestion(`${'c'.repeat(79)}e\u0301`)).toBe('c'.repeat(79));
    expect(titleFromQuestion('心脏科 '.repeat(30))).toHaveLength(79);
    // A lone surrogate half in the question itself is no character to keep.
    expect(titleFromQuestion('half \ud83d of it')).toBe('half of it');
    // One grapheme longer than the limit: cut by code point rather than lost.
    expect(titleFromQuestion(`x${'\u0301'.repeat(100)}`)).toBe(`x${'\u0301'.repeat(79)}`);
  });

  it('leaves out bidi controls, which would reverse the chat list’s line, and keeps the rest', () => {
    expect(titleFromQuestion('\u001b[31mred\u0007bell\u0085 and \u202e bidi what is my bicycle?')).toBe('[31mred bell and bidi what is my bicycle?');
    expect(titleFromQuestion('x\u2066y\u2069 \u202a\u202b\u202c\u202dz\u2067\u2068')).toBe('xy z');
  });

  it('leaves no invisible character at either end, and keeps those inside the text', () => {
    expect(titleFromQuestion('\u200b\u2066\u2060 \ufeff?')).toBe('?');
    expect(titleFromQuestion(`\u200b hi \u2060`)).toBe('hi');
    // Cut after a zero-width space: it does not end the title.
    expect(titleFromQuestion(`${'a'.repeat(78)}\u200b bc`)).toBe('a'.repeat(78));
    const scotland = '🏴\udb40\udc67\udb40\udc62\udb40\udc73\udb40\udc63\udb40\udc74\udb40\udc7f';
    expect(titleFromQuestion(`flag ${scotland}`)).toBe(`flag ${scotland}`);
    expect(titleFromQuestion('👩‍👧 می\u200cخواهم')).toBe('👩‍👧 می\u200cخواهم');
  });

  it('is "Untitled chat" when nothing visible is left', () => {
    for (const q of ['\u200b', '\u200b \u2060\ufeff\u200e', '\u202e', '\u200b\ud800\u2066']) {
      expect(titleFromQuestion(q), JSON.stringify(q)).toBe('Untitled chat');
    }
  });

  it('is never empty, and always a title the rename rule accepts', () => {
    expect(titleFromQuestion('\u0007\u001b\u0085')).toBe('Untitled chat');
    for (const q of ['weight\u001b[2J', `${'a'.repeat(79)}😀`, '\u0000x', 'ok', 'bidi \u202eevil', '\u2067rtl\u2069 \ud800', '\u200b hi']) {
      expect(RenameChatBody.safeParse({ title: titleFromQuestion(q) }).success, JSON.stringify(q)).toBe(true);
    }
  });
});
