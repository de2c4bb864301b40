import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** The Node version README promises ("Needs Node.js 20.19 or newer"), as a full semver. */
function promisedNode(): string {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const m = /Node\.js (\d+)\.(\d+)(?:\.(\d+))? or newer/.exec(readme);
  if (!m) throw new Error('README.md no longer says "Node.js X.Y or newer"');
  return `${m[1]}.${m[2]}.${m[3] ?? 0}`;
}

/** Every installed package (nested node_modules included) that declares engines.node. */
function installedEngines(): { pkg: string; range: string }[] {
  const out: { pkg: string; range: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const p = path.join(dir, entry.name);
      if (entry.name.startsWith('@')) {
        walk(p);
        continue;
      }
      const manifest = path.join(p, 'package.json');
      if (existsSync(manifest)) {
        const json = JSON.parse(readFileSync(manifest, 'utf8')) as { engines?: { node?: unknown } };
        const range = json.engines?.node;
        if (typeof range === 'string') out.push({ pkg: path.relative(root, p), range });
      }
      if (existsSync(path.join(p, 'node_modules'))) walk(path.join(p, 'node_modules'));
    }
  };
  walk(path.join(root, 'node_modules'));
  return out;
}

describe('supported Node versions', () => {
  it("README's promise matches package.json engines", () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(semver.minVersion(pkg.engines.node)?.version).toBe(promisedNode());
  });

  it("no installed package excludes README's Node version", () => {
    const version = promisedNode();
    const engines = installedEngines();
    // The walk found the tree (a few hundred packages declare engines), not an empty folder.
    expect(engines.length).toBeGreaterThan(100);
    const excluding = engines.filter(({ range }) => !semver.satisfies(version, range)).map(({ pkg, range }) => `${pkg} (engines.node ${range})`);
    expect(excluding).toEqual([]);
  });
});
