import Bowser from 'bowser';

const MAX_LABEL = 60;

/**
 * A coarse name for the client behind a user agent: browser and operating system families
 * ("Chrome on Linux"), or a script's product name ("curl"), never versions or the raw string,
 * so the activity list tells a person which of their devices acted without fingerprinting it.
 */
export function clientLabel(userAgent: string | undefined): string | undefined {
  const ua = userAgent?.slice(0, 1000).trim();
  if (!ua) return undefined;
  const parsed = Bowser.parse(ua);
  const browser = parsed.browser.name;
  const os = parsed.os.name;
  if (browser && os) return `${browser} on ${os}`.slice(0, MAX_LABEL);
  if (browser) return browser.slice(0, MAX_LABEL);
  // A script: its first product token without the version ("python-requests/2.31" → "python-requests").
  const product = /^[A-Za-z][A-Za-z0-9._-]{0,40}/.exec(ua)?.[0];
  if (product && product !== 'Mozilla') return product;
  return os ? `Unknown browser on ${os}` : 'Unknown client';
}
