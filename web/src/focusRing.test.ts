// @vitest-environment node
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'tailwindcss';
import { describe, expect, it } from 'vitest';
import { TOUCH_TARGET } from './components/ui/Button';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The app's stylesheet as Tailwind builds it, with the given utility classes in use. */
async function build(candidates: string[]): Promise<string> {
  const css = readFileSync(join(here, 'index.css'), 'utf8');
  const compiler = await compile(css, {
    base: here,
    loadStylesheet: async (id: string, base: string) => {
      const path = id === 'tailwindcss' ? require.resolve('tailwindcss/index.css') : join(base, id);
      return { path, base: dirname(path), content: readFileSync(path, 'utf8') };
    },
  });
  return compiler.build(candidates);
}

/** Every `selector { ... }` block's body, however deeply nested in @layer or @media. */
function blocks(css: string, selector: string): string[] {
  const out: string[] = [];
  for (let at = css.indexOf(`${selector} {`); at >= 0; at = css.indexOf(`${selector} {`, at + 1)) {
    const open = css.indexOf('{', at);
    out.push(css.slice(open + 1, css.indexOf('}', open)));
  }
  return out;
}

describe('focus rings', () => {
  it('every focused control shows a solid 2px ring, not only the colour of the browser’s faint default', async () => {
    const css = await build([]);
    const rules = blocks(css, ':focus-visible').join('\n');
    expect(rules).toMatch(/outline:\s*2px solid var\(--focus-ring\)/);
    expect(css).toMatch(/--focus-ring:\s*var\(--color-teal-600\)/);
  });

  it('is lightened in the dark scheme, where teal-600 is dim on the dark page', () => {
    const dark = readFileSync(join(here, 'theme-dark.css'), 'utf8');
    expect(blocks(dark, ":root[data-theme='dark']").join('\n')).toMatch(/--focus-ring:\s*oklch\(/);
  });

  it('no control takes its ring away or fades it (outline-none, a translucent outline colour)', () => {
    const files = [
      'components/ui/Field.tsx',
      'features/vault/ItemPage.tsx',
      'features/vault/ItemRow.tsx',
      'features/vault/VaultPage.tsx',
      'features/vault/EditNote.tsx',
      'features/chat/AnswerTools.tsx',
    ];
    for (const f of files) {
      const source = readFileSync(join(here, f), 'utf8');
      expect(source, f).not.toMatch(/focus(-visible)?:outline-none|outline-teal-600\/\d+/);
    }
  });
});

describe('touch targets', () => {
  it('are 44 CSS px each way below the sm breakpoint (2.75rem at the 0.25rem spacing unit)', async () => {
    const css = await build(TOUCH_TARGET.split(' '));
    expect(css).toMatch(/--spacing:\s*0\.25rem/);
    const phone = css.slice(css.indexOf('@media (width < 40rem)'));
    expect(phone).toMatch(/min-height:\s*calc\(var\(--spacing\) \* 11\)/);
    expect(phone).toMatch(/min-width:\s*calc\(var\(--spacing\) \* 11\)/);
  });
});
