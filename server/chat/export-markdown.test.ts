import { describe, expect, it } from 'vitest';
import { chatToMarkdown, escapeMarkdown, exportDisposition, exportFilename } from './export-markdown.js';

describe('chatToMarkdown', () => {
  it('lists each answer with the sources its markers cite, titles escaped', () => {
    const md = chatToMarkdown(
      {
        title: 'Echo *results* [draft]',
        messages: [
          { role: 'user', text: 'What did the echo show?\nAnd the ECG?', createdAt: '2026-03-01T09:30:00.000Z', sources: [] },
          {
            role: 'assistant',
            text: 'The echo was normal [1]; the ECG showed sinus rhythm [2].',
            createdAt: '2026-03-01T09:30:05.000Z',
            sources: [
              { n: 1, itemId: 'a', title: 'Echo report <b>', kind: 'document', occurredAt: '2026-02-20T00:00:00.000Z', page: 2, passage: 'LVEF 60%' },
              { n: 2, itemId: 'b', title: 'ECG', kind: 'record', occurredAt: null },
            ],
            context: { model: 'llama3.1:8b', numCtx: 8192 },
            alternatives: [{}],
          },
        ],
      },
      new Date('2026-03-02T00:00:00Z'),
    );
    expect(md).toBe(
      [
        '# Echo \\*results\\* \\[draft\\]',
        '',
        '_Exported from Context Vault on 2026-03-02._',
        '',
        '## You (2026-03-01 09:30 UTC)',
        '',
        '> What did the echo show?',
        '> And the ECG?',
        '',
        '## Answer (llama3.1:8b)',
        '',
        'The echo was normal [1]; the ECG showed sinus rhythm [2].',
        '',
        '**Sources**',
        '',
        '- [1] Echo report \\<b\\> (document, 2026-02-20, page 2)',
        '  > LVEF 60%',
        '- [2] ECG (record)',
        '',
        '_1 earlier answer to this question not shown._',
        '',
      ].join('\n'),
    );
  });

  it('lists only the sources the answer cites, under their numbers in the text, and marks an answer cut off', () => {
    const source = (n: number) => ({ n, itemId: `i${n}`, title: `Note ${n}`, kind: 'note', occurredAt: null });
    const md = chatToMarkdown({
      title: 'Labs',
      messages: [
        { role: 'user', text: 'HbA1c?', createdAt: '2026-03-01T09:30:00.000Z', sources: [] },
        {
          role: 'assistant',
          text: 'It was 6.1% [3], later 5.9% [3][4]. Not [x] nor [ 1].',
          createdAt: '2026-03-01T09:30:05.000Z',
          sources: [1, 2, 3, 4].map(source),
          cutOff: true,
        },
        { role: 'assistant', text: 'Nothing cited.', createdAt: '2026-03-01T09:31:00.000Z', sources: [source(1)] },
      ],
    });
    const [, cited = '', uncited = ''] = md.split(/^## Answer/m);
    expect(cited).toContain('_Cut off at the length limit._');
    expect(cited.split('\n').filter((l) => l.startsWith('- ['))).toEqual(['- [3] Note 3 (note)', '- [4] Note 4 (note)']);
    expect(uncited).not.toContain('**Sources**');
    expect(uncited).not.toContain('Cut off');
  });

  it('escapes markup and flattens newlines and other control characters in names', () => {
    expect(escapeMarkdown('a_b\n# c')).toBe('a\\_b \\# c');
    expect(escapeMarkdown('weight\u001b[2J\u0007 check\u0085')).toBe('weight \\[2J  check ');
  });

  it('makes ASCII file names', () => {
    expect(exportFilename('Café: what did Dr. Ng say?')).toBe('chat-cafe-what-did-dr-ng-say.md');
    expect(exportFilename('血压')).toBe('chat-export.md');
  });

  it('names the download in the title’s own script too (RFC 6266 filename*), keeping the ASCII one', () => {
    const named = (title: string) => {
      const m = /^attachment; filename="([\x20-\x7e]+)"; filename\*=UTF-8''([A-Za-z0-9%._~-]+)$/.exec(exportDisposition(title));
      expect(m, title).not.toBeNull();
      return { ascii: m![1], exact: decodeURIComponent(m![2]!) };
    };
    expect(named('我的血压是多少？')).toEqual({ ascii: 'chat-export.md', exact: 'chat-我的血压是多少.md' });
    expect(named('Какой у меня гемоглобин?').exact).toBe('chat-какой-у-меня-гемоглобин.md');
    expect(named('ما هو السكر التراكمي؟').exact).toBe('chat-ما-هو-السكر-التراكمي.md');
    expect(named('मेरा रक्तचाप क्या है?').exact).toBe('chat-मेरा-रक्तचाप-क्या-है.md');
    expect(named('Café: what did Dr. Ng say?')).toEqual({ ascii: 'chat-cafe-what-did-dr-ng-say.md', exact: 'chat-café-what-did-dr-ng-say.md' });
    // No folder, control, format or bidi character survives; nothing visible is left: the fallback name.
    expect(named('../..\\etc/pass\u202Ewd\u0007\u200B').exact).toBe('chat-etc-pass-wd.md');
    expect(named('\u202E\u2066 ?! ').exact).toBe('chat-export.md');
    // Cut at 60 characters, never inside one (an emoji is not a letter; a letter with its marks stays whole).
    expect(named('q\u0323\u0301'.repeat(100)).exact).toBe(`chat-${'q\u0323\u0301'.repeat(60)}.md`);
  });
});
