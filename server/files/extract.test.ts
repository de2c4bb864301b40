import { describe, expect, it } from 'vitest';
import { MAX_TEXT_CHARS, decodeText, joinLineBreakHyphens, joinPages, looksBinary, storedText } from './extract.js';

const utf16be = (s: string) => Buffer.from(s, 'utf16le').swap16();

describe('decodeText', () => {
  it('reads UTF-8, with or without a BOM', () => {
    expect(decodeText(Buffer.from('Größe 血压 🩺'))).toBe('Größe 血压 🩺');
    expect(decodeText(Buffer.from('\uFEFFSchilddrüse'))).toBe('Schilddrüse');
  });

  it('honours a UTF-16 byte order mark, little- and big-endian (Notepad "Unicode")', () => {
    const text = 'Blutdruck über Grenzwert Größe 血压 🩺';
    expect(decodeText(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]))).toBe(text);
    expect(decodeText(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be('Notiz: Schilddrüse Kontrolle')]))).toBe('Notiz: Schilddrüse Kontrolle');
  });

  it('falls back to Windows-1252 when the bytes are not UTF-8 (Excel CSV exports)', () => {
    // 'nach dem Frühstück – 5 €' as cp1252: ü = FC, – = 96, € = 80.
    const bytes = Buffer.from('01.12.2026;120/80;nach dem Fr\xfchst\xfcck \x96 5 \x80\r\n', 'latin1');
    expect(decodeText(bytes)).toBe('01.12.2026;120/80;nach dem Frühstück – 5 €\r\n');
  });

  it('keeps a UTF-8 file UTF-8 when its first bytes end inside a character', () => {
    // The upload keeps only the start of a large file: the cut may fall inside "ü".
    const bytes = Buffer.from('Schilddrüse');
    expect(decodeText(bytes.subarray(0, bytes.indexOf(0xbc)))).toBe('Schilddr');
  });

  it('drops NULs', () => {
    expect(decodeText(Buffer.from('a\u0000b'))).toBe('ab');
  });
});

describe('looksBinary', () => {
  it('takes text in every encoding decodeText reads for text', () => {
    const text = 'Blutdruck über Grenzwert\tGröße 血压 🩺\r\n\f'.repeat(40);
    expect(looksBinary(Buffer.from(text))).toBe(false);
    expect(looksBinary(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]))).toBe(false);
    expect(looksBinary(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(text)]))).toBe(false);
    expect(looksBinary(Buffer.from('nach dem Fr\xfchst\xfcck \x96 5 \x80\r\n'.repeat(40), 'latin1'))).toBe(false);
    // Cyrillic saved as Windows-1251: read as Windows-1252 it is the wrong letters, but letters.
    expect(looksBinary(Buffer.from('\xc4\xe0\xe2\xeb\xe5\xed\xe8\xe5 120/80\r\n'.repeat(40), 'latin1'))).toBe(false);
    expect(looksBinary(Buffer.from('\u001b[31mERROR\u001b[0m pump stopped\n'.repeat(40)))).toBe(false);
    expect(looksBinary(Buffer.from('B\bBo\bol\bld\bd\n'.repeat(40)))).toBe(false);
    expect(looksBinary(Buffer.alloc(0))).toBe(false);
  });

  it('takes a NUL byte outside UTF-16, or many control characters, for binary', () => {
    expect(looksBinary(Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.from([0x14, 0x00]), Buffer.from('a'.repeat(9000))]))).toBe(true);
    // Every byte value but 0, spread as in compressed data (Knuth's multiplicative hash).
    const noNul = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24 || 1));
    expect(looksBinary(noNul)).toBe(true);
    // Only the start is read: a text file with binary after its first 8 KB is text.
    expect(looksBinary(Buffer.concat([Buffer.from('a'.repeat(8192)), Buffer.alloc(64)]))).toBe(false);
  });
});

describe('storedText', () => {
  it('drops U+0000, which an item text may not hold, and keeps every other character', () => {
    expect(storedText('Zyx\u0000quor\u0000\u0000belt\f\t\u0001 é 血')).toBe('Zyxquorbelt\f\t\u0001 é 血');
  });

  it('caps at MAX_TEXT_CHARS without splitting a surrogate pair', () => {
    expect(storedText('a'.repeat(MAX_TEXT_CHARS + 5))).toHaveLength(MAX_TEXT_CHARS);
    const split = storedText('a'.repeat(MAX_TEXT_CHARS - 1) + '🩺');
    expect(split).toBe('a'.repeat(MAX_TEXT_CHARS - 1));
    // NULs do not count against the cap.
    expect(storedText('\u0000'.repeat(10) + 'a'.repeat(MAX_TEXT_CHARS))).toHaveLength(MAX_TEXT_CHARS);
  });
});

describe('joinPages', () => {
  it('separates pages with form feeds and drops NULs (PDF text and OCR output)', () => {
    expect(joinPages(['one\u0000', 'two\fthree', ''])).toBe('one\ftwo three\f');
  });
});

describe('joinLineBreakHyphens', () => {
  it('joins a word hyphenated across a line break when the next line starts in lower case', () => {
    expect(joinLineBreakHyphens('an uncompli-\ncated case and pneumo- \r\n  thorax; Elektrokardio\u00ad\ngramm')).toBe(
      'an uncomplicated case and pneumothorax; Elektrokardiogramm',
    );
  });

  it('keeps compounds before a capital or a digit, dashes, blank lines and page breaks', () => {
    for (const text of ['Non-\nHodgkin', 'COVID-\n19', 'list:\n-\nitem', 'word -\nnext', 'para-\n\nnext', 'page-\fnext', '10-\n20']) {
      expect(joinLineBreakHyphens(text), text).toBe(text);
    }
  });
});
