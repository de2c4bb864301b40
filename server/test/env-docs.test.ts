import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOC_PATHS, ROOT, envRows, renderDocs } from '../../scripts/env-docs.js';

const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');

describe('configuration docs', () => {
  it('README, docs/API.md and docs/configuration.md match the config schemas (run npm run docs:env)', () => {
    const next = renderDocs({ readme: read(DOC_PATHS.readme), api: read(DOC_PATHS.api) });
    expect(read(DOC_PATHS.readme)).toBe(next.readme);
    expect(read(DOC_PATHS.api)).toBe(next.api);
    expect(read(DOC_PATHS.configuration)).toBe(next.configuration);
  });

  it('documents every variable the shipped code reads, each with a description', () => {
    const names = new Set(envRows().map((r) => r.name));
    expect(names.size).toBe(envRows().length);
    for (const r of envRows()) expect(r.description.length).toBeGreaterThan(10);
    // Variables read directly rather than through the schemas must be documented too.
    const read = new Set<string>();
    const walk = (dir: string) => {
      for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (e.name !== 'test' && e.name !== 'node_modules') walk(p);
        } else if (/\.(ts|mjs)$/.test(e.name) && !/\.test\.ts$/.test(e.name)) {
          for (const m of readFileSync(path.join(ROOT, p), 'utf8').matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)) read.add(m[1]!);
        }
      }
    };
    for (const dir of ['server', 'sandbox', 'integrations', 'crypto']) walk(dir);
    // The AWS SDK's own switch, which s3-store.ts sets (it reads no setting of ours).
    const system = new Set(['HOME', 'PATH', 'NODE_ENV', 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED']);
    expect([...read].filter((n) => !names.has(n) && !system.has(n))).toEqual([]);
  });

  it('shows the defaults the server really uses', () => {
    const byName = Object.fromEntries(envRows().map((r) => [r.name, r.default]));
    expect(byName).toMatchObject({
      PORT: '8080',
      DATA_DIR: '`./data`',
      SANDBOX_RUNTIME: '`auto`',
      OLLAMA_NUM_CTX: '8192',
      PUBLIC_URL: '`http://localhost:$PORT`',
    });
  });
});
