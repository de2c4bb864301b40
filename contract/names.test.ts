import { describe, expect, it } from 'vitest';
import { CreateTokenBody } from './account.js';
import { RenameChatBody } from './chat.js';
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
});
