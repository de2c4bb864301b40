import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse';

function feed(chunks: string[]): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...p.push(c));
  out.push(...p.end());
  return out;
}

const STREAM =
  'event: sources\ndata: {"sources":[{"n":1,"itemId":"a","title":"Blood test"}]}\n\n' +
  'event: token\ndata: {"text":"Your "}\n\n' +
  ': keep-alive comment\n\n' +
  'event: token\ndata: {"text":"LDL was 96."}\n\n' +
  'event: done\ndata: {"chatId":"c1","messageId":"m1"}\n\n';

describe('SseParser', () => {
  it('parses whole events', () => {
    const evs = feed([STREAM]);
    expect(evs.map((e) => e.event)).toEqual(['sources', 'token', 'token', 'done']);
    expect(JSON.parse(evs[2]!.data)).toEqual({ text: 'LDL was 96.' });
  });

  it('gives the same events however the stream is split, even inside lines and field names', () => {
    const whole = feed([STREAM]);
    for (let size = 1; size <= 13; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.slice(i, i + size));
      expect(feed(chunks), `chunk size ${size}`).toEqual(whole);
    }
    // every single split point
    for (let i = 1; i < STREAM.length; i++) expect(feed([STREAM.slice(0, i), STREAM.slice(i)])).toEqual(whole);
  });

  it('handles CRLF and CR line endings, including a CR and LF in different chunks', () => {
    const crlf = 'event: token\r\ndata: {"text":"a"}\r\n\r\n';
    expect(feed(['event: token\r', '\ndata: {"text":"a"}\r', '\n\r', '\n'])).toEqual(feed([crlf]));
    expect(feed(['event: token\rdata: x\r\r'])).toEqual([{ event: 'token', data: 'x' }]);
  });

  it('joins multi-line data and defaults the event name to "message"', () => {
    expect(feed(['data: line one\ndata: line two\n\n'])).toEqual([{ event: 'message', data: 'line one\nline two' }]);
  });

  it('strips only one leading space and keeps colons in values', () => {
    expect(feed(['data:  two spaces: kept\n\n'])).toEqual([{ event: 'message', data: ' two spaces: kept' }]);
  });

  it('ignores events without data and unknown fields, and records ids', () => {
    expect(feed(['event: ping\n\n', 'retry: 10\nid: 7\nevent: token\ndata: y\n\n'])).toEqual([{ event: 'token', data: 'y', id: '7' }]);
  });

  it('delivers a final event that lacks its blank line at end of stream', () => {
    expect(feed(['event: done\ndata: {"chatId":"c"}'])).toEqual([{ event: 'done', data: '{"chatId":"c"}' }]);
  });

  it('handles multi-byte characters split across network chunks when decoded with stream: true', () => {
    const bytes = new TextEncoder().encode('event: token\ndata: {"text":"café ❤"}\n\n');
    const dec = new TextDecoder();
    const p = new SseParser();
    const out: SseEvent[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...p.push(dec.decode(bytes.slice(i, i + 1), { stream: true })));
    expect(JSON.parse(out[0]!.data).text).toBe('café ❤');
  });
});
