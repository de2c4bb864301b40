/**
 * The line `npm run export` prints when its sign-in is refused: a rate limit is not a wrong
 * passphrase. Anything else passes on the API's own message (`{ error: { code, message } }`).
 */
export async function signInFailure(res: Response): Promise<string> {
  if (res.status === 429) {
    const after = Number(res.headers.get('retry-after'));
    return Number.isFinite(after) && after > 0
      ? `Too many sign-in attempts: try again in ${Math.ceil(after)} seconds.`
      : 'Too many sign-in attempts: try again later.';
  }
  let message: unknown;
  try {
    message = ((await res.json()) as { error?: { message?: unknown } }).error?.message;
  } catch {
    // Not the API's error body.
  }
  if (typeof message === 'string' && message.trim()) return message.trim();
  return res.status === 401 ? 'Email or passphrase is incorrect.' : `Sign-in failed (HTTP ${res.status}).`;
}
