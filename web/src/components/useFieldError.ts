import { useEffect, useId, useRef } from 'react';
import { ApiError } from '../api/client';

/** The server's "that is not right" about what was typed (401 invalid_credentials), not a failure to answer. */
export const isWrongCredentials = (e: unknown) => e instanceof ApiError && e.code === 'invalid_credentials';

/**
 * A server's answer about the fields ("The current passphrase is incorrect."): those fields are
 * marked invalid and described by the message, and the first gets focus, so a screen reader says
 * which field to fix, not only that something failed. `fieldsOf` picks the fields an error is about
 * (none for one that is not: the server down). Render the message with `id={errorId}`.
 */
export function useFieldError<F extends string>(error: unknown, fieldsOf: (error: unknown) => readonly F[]) {
  const errorId = useId();
  const fields = error ? fieldsOf(error) : [];
  const inputs = useRef(new Map<F, HTMLElement | null>());
  const first = fields[0];
  useEffect(() => {
    // Each new error (a second wrong try too), once its marks are in the page.
    if (first) inputs.current.get(first)?.focus();
  }, [error, first]);
  const field = (name: F) => {
    const bad = fields.includes(name);
    return {
      ref: (el: HTMLElement | null) => {
        inputs.current.set(name, el);
      },
      'aria-invalid': bad ? (true as const) : undefined,
      'aria-describedby': bad ? errorId : undefined,
    };
  };
  return { errorId, field };
}
