// Builds the web app when web/dist is missing or older than its sources, so `npm start` always
// serves the current app without a separate build step.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'web');
const built = path.join(web, 'dist', 'index.html');

function newest(p) {
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  let max = s.mtimeMs;
  for (const e of readdirSync(p)) if (e !== 'dist' && e !== 'node_modules') max = Math.max(max, newest(path.join(p, e)));
  return max;
}

if (!existsSync(path.join(web, 'index.html'))) process.exit(0);
const force = process.argv.includes('--force');
if (!force && existsSync(built) && statSync(built).mtimeMs >= Math.max(newest(web), statSync(path.join(root, 'package-lock.json')).mtimeMs)) {
  process.exit(0);
}
process.stdout.write('Building the web app...\n');
execFileSync(
  process.execPath,
  [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join(web, 'vite.config.ts'), '--logLevel', 'warn'],
  { cwd: root, stdio: 'inherit' },
);
