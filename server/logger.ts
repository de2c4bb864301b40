import pino, { type LoggerOptions } from 'pino';

/**
 * Never log a body: bodies hold passphrases and vault plaintext. Headers that carry secrets are
 * redacted wherever they appear.
 */
export const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
  '*.passphrase',
  '*.current',
  '*.next',
  '*.recoveryKey',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.code_verifier',
  '*.secret',
  '*.identity',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { id?: string; method?: string; url?: string }) => ({
        id: req.id,
        method: req.method,
        // Query strings can carry OAuth codes and states: log the path only.
        url: typeof req.url === 'string' ? req.url.split('?')[0] : undefined,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
}

export const createLogger = (level: string) => pino(loggerOptions(level));
