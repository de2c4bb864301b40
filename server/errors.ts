/** An error a client may see: a status, a stable snake_case code and a human sentence. */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Extra top-level fields of the error body (a 409 carries the current state). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code = 'bad_request') => new AppError(400, code, message);
export const unauthorized = (message = 'Sign in to continue.', code = 'unauthorized') => new AppError(401, code, message);
export const forbidden = (message = 'Not allowed.', code = 'forbidden') => new AppError(403, code, message);
/** Also used for other users' ids: their existence is not revealed. */
export const notFound = (what = 'Item') => new AppError(404, 'not_found', `${what} not found.`);
export const conflict = (message: string, code = 'conflict') => new AppError(409, code, message);
/** A save based on a version that is no longer current; the body carries the current item. */
export const versionConflict = (current: unknown) =>
  new AppError(409, 'version_conflict', 'This item was saved elsewhere since you opened it.', {}, { current });
export const tooLarge = (message: string) => new AppError(413, 'too_large', message);
export const unsupportedType = (message: string) => new AppError(415, 'unsupported_media_type', message);
export const unprocessable = (message: string, code = 'unprocessable') => new AppError(422, code, message);
export const rateLimited = (retryAfterSeconds: number, message = 'Too many attempts. Try again later.') =>
  new AppError(429, 'rate_limited', message, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
export const unavailable = (message: string, code = 'unavailable', retryAfterSeconds?: number) =>
  new AppError(503, code, message, retryAfterSeconds ? { 'retry-after': String(retryAfterSeconds) } : {});
export const notConfigured = (what: string) => new AppError(404, 'not_configured', `${what} is not configured on this server.`);

/** Postgres error codes mapped in one place. */
export function fromPostgresError(err: unknown): AppError | undefined {
  const code = (err as { code?: unknown })?.code;
  if (code === '23505') return conflict('That already exists.');
  if (code === '23503') return notFound();
  return undefined;
}
