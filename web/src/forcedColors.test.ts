// @vitest-environment node
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'tailwindcss';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

async function build(): Promise<string> {
  const css = readFileSync(join(here, 'index.css'), 'utf8');
  const compiler = await compile(css, {
    base: here,
    loadStylesheet: async (id: string, base: string) => {
      const path = id === 'tailwindcss' ? require.resolve('tailwindcss/index.css') : join(base, id);
      return { path, base: dirname(path), content: readFileSync(path, 'utf8') };
    },
  });
  return compiler.build([]);
}

describe('forced colours (Windows High Contrast)', () => {
  it('mark the chosen tab, range and folder with the system’s selection colours, which forced colours keep', async () => {
    const css = await build();
    const at = css.indexOf('@media (forced-colors: active)');
    expect(at).toBeGreaterThanOrEqual(0);
    const block = css.slice(at, css.indexOf('\n}', at));
    // The states the components set: Vault's tabs (aria-selected), Health's range (aria-pressed),
    // the folder tree's current folder (aria-current="true").
    for (const state of [`[aria-selected='true']`, `[aria-pressed='true']`, `[aria-current='true']`]) expect(block).toContain(state);
    expect(block).toMatch(/forced-color-adjust:\s*none/);
    expect(block).toMatch(/background-color:\s*SelectedItem;/);
    expect(block).toMatch(/color:\s*SelectedItemText;/);
  });
});
