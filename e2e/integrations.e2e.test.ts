import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmartServer, type SmartServer } from '../test-support/integrations/epic/smart-server.js';
import { startOidcProvider, type OidcProvider } from '../test-support/server/oidc-provider.js';
import { freePort, launch, newSession, PASSPHRASE, signUp, startServer, type RunningServer, type Session } from './helpers.js';

/**
 * Sign in with Google and Epic over SMART on FHIR, in Chromium, through real redirects: the real
 * server (child process) talks to a local OpenID provider standing in for Google and to a local
 * SMART authorization server + FHIR endpoint serving the sample bundles. Both approve consent by
 * redirecting straight back (no consent page), like a provider the user already trusts.
 */
describe('Google sign-in and connections in the browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let google: OidcProvider;
  let smart: SmartServer;
  let evil: SmartServer;
  let s: Session;
  const GOOGLE_ID = 'cv-e2e-google';
  const GOOGLE_SECRET = 'e2e-google-secret';
  const EPIC_ID = 'cv-e2e-epic';
  const googleEmail = `lin+${Date.now()}@example.org`;

  beforeAll(async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    google = await startOidcProvider({
      clientId: GOOGLE_ID,
      clientSecret: GOOGLE_SECRET,
      redirectUris: [`${url}/api/auth/google/callback`, `${url}/api/integrations/google_health/callback`],
      sub: 'google-e2e-1',
      email: googleEmail,
    });
    // Public client (no secret): the token endpoint then checks PKCE alone.
    const clients = [{ clientId: EPIC_ID, redirectUris: [`${url}/api/integrations/epic/callback`] }];
    smart = await startSmartServer({ clients });
    evil = await startSmartServer({ clients, configOverride: () => ({ token_endpoint: 'https://169.254.169.254/latest/meta-data/token' }) });
    server = await startServer(
      {
        PUBLIC_URL: url,
        ALLOW_HTTP_LOOPBACK: '1',
        RATE_LIMIT_AUTH_PER_MIN: '1000',
        // The flows below press "Sync now" again seconds after a sync they asked for.
        SYNC_COOLDOWN_S: '0',
        GOOGLE_CLIENT_ID: GOOGLE_ID,
        GOOGLE_CLIENT_SECRET: GOOGLE_SECRET,
        GOOGLE_ISSUER: google.issuer,
        EPIC_CLIENT_ID: EPIC_ID,
        EPIC_FHIR_BASE_URLS: [smart.fhirBase, evil.fhirBase].join(','),
      },
      { port },
    );
    browser = await launch();
    s = await newSession(browser, server.url, 'integrations');
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
    await Promise.all([google?.close(), smart?.close(), evil?.close()]);
  });

  it('signs up with Google: a new identity sets a passphrase and gets its recovery key', async () => {
    const { page } = s;
    await page.goto('/signin');
    const button = page.getByRole('button', { name: 'Sign in with Google' });
    await button.waitFor();
    await s.shot('signin-with-google');
    await button.click();
    await page.waitForURL('**/welcome');
    // Nothing secret stays in the address bar after the callback.
    expect(page.url()).not.toMatch(/code=|state=/);
    await page.getByRole('heading', { name: /choose your vault passphrase/ }).waitFor();
    await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await page.getByLabel('Re-enter to confirm').fill(PASSPHRASE);
    await s.shot('welcome-passphrase');
    await page.getByRole('button', { name: 'Create account' }).click();
    const dialog = page.getByRole('dialog', { name: 'Save your recovery key' });
    await dialog.waitFor();
    expect(((await dialog.getByTestId('recovery-key').textContent()) ?? '').trim().length).toBeGreaterThan(20);
    await s.shot('welcome-recovery-key');
    await dialog.getByLabel('I have saved my recovery key').check();
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL('**/vault');
    await page.getByText('Your vault is empty').waitFor();
    expect(await page.getByText(googleEmail).first().isVisible()).toBe(true);
    await s.shot('google-vault');
  });

  it('signs in with Google again: the returning identity must unlock with the passphrase', async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/signin');
    await page.getByRole('button', { name: 'Sign in with Google' }).click();
    await page.waitForURL('**/unlock');
    await page.getByLabel('Passphrase').fill('not my passphrase at all');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('alert').waitFor();
    await s.shot('unlock-wrong');
    await page.getByLabel('Passphrase').fill(PASSPHRASE);
    await s.shot('unlock');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.waitForURL('**/vault');
    await page.getByRole('heading', { name: 'Vault' }).waitFor();
  });

  it('explains a cancelled Google sign-in in plain words', async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/signin');
    google.consent = 'deny';
    try {
      await page.getByRole('button', { name: 'Sign in with Google' }).click();
      await page.waitForURL('**/signin?error=access_denied');
    } finally {
      google.consent = 'approve';
    }
    expect(await page.getByRole('alert').textContent()).toMatch(/Google sign-in was cancelled/);
    await s.shot('google-denied');
    // Back in for the next tests.
    await page.getByRole('button', { name: 'Sign in with Google' }).click();
    await page.waitForURL('**/unlock');
    await page.getByLabel('Passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.waitForURL('**/vault');
  });

  it('connects Epic through the SMART redirects, syncs, and the records appear', async () => {
    const { page } = s;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Connections' }).click();
    const epic = page.getByRole('region', { name: 'Epic MyChart' });
    await epic.getByText('Not connected').waitFor();
    expect(await epic.getByRole('button', { name: 'Connect', exact: true }).count()).toBe(2);
    await s.shot('connections-empty');

    // The health system whose discovery points at a link-local address is refused before any redirect.
    await epic
      .getByRole('listitem')
      .filter({ hasText: new URL(evil.fhirBase).host })
      .getByRole('button', { name: 'Connect', exact: true })
      .click();
    await epic
      .getByRole('alert')
      .filter({ hasText: /private or link-local|private network/ })
      .waitFor();
    expect(page.url()).toMatch(/\/connections$/);
    expect(evil.auth.stats.authorizeRequests).toBe(0);
    await s.shot('connect-refused');

    // The page is already on /connections: wait for the round trip through the provider to end.
    const back = page.waitForURL(/\/connections\?.*(connected=1|error=)/);
    await epic
      .getByRole('listitem')
      .filter({ hasText: new URL(smart.fhirBase).host })
      .getByRole('button', { name: 'Connect', exact: true })
      .click();
    await back;
    expect(smart.auth.stats.authorizeRequests).toBeGreaterThan(0);
    expect(smart.auth.stats.lastAuthorize?.code_challenge_method).toBe('S256');
    await page.getByRole('status').filter({ hasText: 'Connected to Epic' }).waitFor();
    expect(page.url()).not.toMatch(/code=|state=|connected=/);
    await s.shot('epic-connected');
    // The first sync starts by itself right after connecting.
    await epic.getByText('Connected', { exact: true }).waitFor({ timeout: 60_000 });
    await epic.getByText(/Last sync: .*\d/).waitFor({ timeout: 60_000 });

    await epic.getByRole('button', { name: 'Sync now' }).click();
    await epic.getByText(/Sync finished/).waitFor({ timeout: 60_000 });
    await s.shot('epic-synced');

    // The records are in the vault now: Health's lists and the vault list filtered by source.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Health' }).click();
    const conditions = page.getByRole('region', { name: 'Conditions' });
    await conditions.getByRole('listitem').first().waitFor({ timeout: 30_000 });
    expect(await conditions.getByRole('listitem').count()).toBeGreaterThan(0);
    const labs = page.getByRole('region', { name: 'Lab results' });
    await labs
      .getByText(/Hemoglobin/i)
      .first()
      .waitFor();
    await page.getByRole('heading', { name: 'Records', exact: true }).scrollIntoViewIfNeeded();
    await s.shot('health-epic-records');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vault' }).click();
    await page.getByLabel('Source').selectOption('epic');
    await page.getByRole('list', { name: 'Vault items' }).getByRole('listitem').first().waitFor();
    expect(await page.getByText(/\d+ items shown/).textContent()).toMatch(/\d{2,}/);
    await s.shot('vault-epic-items');
  });

  it('says Epic asked to sign in again when the grant is revoked, reconnects, then disconnects after confirming', async () => {
    const { page } = s;
    smart.auth.revokeAllRefreshTokens();
    smart.auth.expireAccessTokens();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Connections' }).click();
    const epic = page.getByRole('region', { name: 'Epic MyChart' });
    await epic.getByRole('button', { name: 'Sync now' }).click();
    await epic
      .getByText(/Epic asked you to sign in again/)
      .first()
      .waitFor({ timeout: 60_000 });
    await epic.getByText('Sign in again', { exact: true }).waitFor();
    await s.shot('epic-reauth');

    const again = page.waitForURL(/\/connections\?.*(connected=1|error=)/);
    await epic.getByRole('button', { name: 'Connect', exact: true }).click();
    await again;
    await page.getByRole('status').filter({ hasText: 'Connected to Epic' }).waitFor();
    await epic.getByRole('button', { name: 'Sync now' }).waitFor();

    await epic.getByRole('button', { name: 'Disconnect' }).click();
    const dialog = page.getByRole('dialog', { name: 'Disconnect Epic MyChart?' });
    await dialog.waitFor();
    await s.shot('epic-disconnect-confirm');
    await dialog.getByRole('button', { name: 'Disconnect' }).click();
    await epic.getByText('Not connected').waitFor();
    await s.shot('epic-disconnected');
  });

  it('links Google to a passphrase account in Settings, and unlinks it', async () => {
    const other = await newSession(browser, server.url, 'integrations-link');
    try {
      const { page } = other;
      const email = `kim+${Date.now()}@example.org`;
      await signUp(page, email);
      google.setUser({ sub: 'google-e2e-link', email });
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
      const card = page.getByRole('region', { name: 'Sign in with Google' });
      await card.getByText('Google is not linked.').waitFor();
      await card.getByRole('button', { name: 'Link Google account' }).click();
      await page.waitForURL('**/settings');
      await card.getByText('Google is now linked').waitFor();
      await card.getByText('Google is linked to this vault.').waitFor();
      await other.shot('google-linked');
      await card.getByRole('button', { name: 'Unlink Google' }).click();
      await card.getByText('Google is not linked.').waitFor();
      await other.shot('google-unlinked');
    } finally {
      await other.context.close();
    }
  });
});
