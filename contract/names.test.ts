import { describe, expect, it } from 'vitest';
import { CreateTokenBody } from './account.js';
import { ChatBody, RegenerateBody, RenameChatBody } from './chat.js';
import { CreateFolderBody } from './items.js';

describe('names people give things (folders, API tokens, chats)', () => {
  const parse = {
    folder: (name: string) => CreateFolderBody.safeParse({ name }),
    token: (name: string) => CreateTokenBody.safeParse({ name, scopes: ['read'] }),
    chat: (title: string) => RenameChatBody.safeParse({ title }),
  };

  it('refuses control characters, C1 included, and keeps every script and emoji', () => {
    for (const [what, p] of Object.entries(parse)) {
      for (const bad of ['a\tb', 'line\nbreak', '\u001b[31mred', 'bell\u0007', 'nul\u0000', 'c1\u0085', 'del\u007f']) {
        expect(p(bad).success, `${what} ${JSON.stringify(bad)}`).toBe(false);
      }
      for (const good of ['Kardiologie', '心脏科', 'طب القلب', '🫀 heart', 'O’Brien & co.']) {
        expect(p(good).success, `${what} ${good}`).toBe(true);
      }
      expect(p('   ').success, `${what} blank`).toBe(false);
    }
    expect(parse.token('  backup script  ').data?.name).toBe('backup script');
  });

  it('counts a name of only invisible characters as empty, and refuses bidi controls and lone surrogates', () => {
    const issue = (r: { success: boolean; error?: { issues: Array<{ message: string }> } }) => r.error?.issues.map((i) => i.message);
    for (const [what, p] of Object.entries(parse)) {
      // Zero-width space, joiners, word joiner, BOM, bidi marks, soft hyphen: nothing to see.
      for (const blank of ['\u200b', ' \u200b \u200c\u200d ', '\u2060', '\ufeff\u200e\u200f', '\u00ad']) {
        expect(issue(p(blank)), `${what} ${JSON.stringify(blank)}`).toEqual(['must not be empty']);
      }
      for (const bidi of ['bidi \u202eevil', '\u202aa', '\u202db', 'x\u2066y\u2069', '\u2067rtl', '\u2068first']) {
        expect(issue(p(bidi)), `${what} ${JSON.stringify(bidi)}`).toEqual(['must not contain bidi override or isolate characters']);
      }
      for (const half of ['lone \ud800 surrogate', 'low \udc00', 'end\ud83d']) {
        expect(issue(p(half)), `${what} ${JSON.stringify(half)}`).toEqual(['must not contain a lone surrogate']);
      }
      // Format characters inside visible text are part of it: emoji sequences, Persian, a flag.
      for (const good of ['👩‍👧 family', 'می\u200cخواهم', '🏴\udb40\udc67\udb40\udc62\udb40\udc73\udb40\udc63\udb40\udc74\udb40\udc7f', 'a\u200b']) {
        expect(p(good).success, `${what} ${JSON.stringify(good)}`).toBe(true);
      }
    }
  });
});

describe('a chat question', () => {
  it('of only invisible characters is as empty as one of spaces', () => {
    for (const message of ['', '   ', '\u200b', '\u200b \u2060\ufeff']) {
      expect(
        ChatBody.safeParse({ message }).error?.issues.map((i) => i.message),
        JSON.stringify(message),
      ).toEqual(['must not be empty']);
    }
    expect(ChatBody.safeParse({ message: '\u200b what is my bicycle?' }).success).toBe(true);
    expect(ChatBody.safeParse({ message: '\u202e bidi what is my bicycle?' }).success).toBe(true);
  });

  it('takes a time zone only when it is one (not silently UTC)', () => {
    for (const timeZone of ['Europe/Berlin', 'UTC', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5']) {
      expect(ChatBody.safeParse({ message: 'hi', timeZone }).success, timeZone).toBe(true);
      expect(RegenerateBody.safeParse({ timeZone }).success, timeZone).toBe(true);
    }
    for (const timeZone of ['Mars/Olympus', 'Europe/Nowhere', 'Etc/Unknown', 'not a zone']) {
      expect(ChatBody.safeParse({ message: 'hi', timeZone }).success, timeZone).toBe(false);
      expect(RegenerateBody.safeParse({ timeZone }).success, timeZone).toBe(false);
    }
  });
});
