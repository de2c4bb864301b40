import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Builds the web app once, so the server under test serves what users get (web/dist). Vitest
 * sets NODE_ENV=test, and Vite would then bundle React's development build (twice the size,
 * and left in web/dist for `npm start` to serve): build for production explicitly.
 */
export default function setup(): void {
  if (process.env.E2E_SKIP_BUILD !== '1' || !existsSync(`${root}/web/dist/index.html`)) {
    execFileSync(process.execPath, [`${root}/node_modules/vite/bin/vite.js`, 'build', 'web', '--logLevel', 'warn'], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'production' },
    });
  }
  mkdirSync(`${root}/test-results`, { recursive: true });
}
