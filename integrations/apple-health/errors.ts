/** Why an Apple Health upload was refused. */
export type ImportErrorCode = 'zip_invalid' | 'zip_unsafe' | 'xml_invalid' | 'xml_entity' | 'not_apple_health' | 'too_large';

/**
 * A refused upload. `message` is written for the person who uploaded the file (the API can show
 * it as is); `code` is for programs.
 */
export class ImportError extends Error {
  override readonly name = 'ImportError';
  constructor(
    readonly code: ImportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether `e` is an {@link ImportError}, optionally of one code. */
export function isImportError(e: unknown, code?: ImportErrorCode): e is ImportError {
  return e instanceof ImportError && (code === undefined || e.code === code);
}
