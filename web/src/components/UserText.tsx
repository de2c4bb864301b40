import type { HTMLAttributes } from 'react';

/**
 * Text a person or an import wrote (a title, a name), isolated from the interface around it: a
 * bidi control inside it (U+202E, stored before the server refused them) then reorders only
 * itself, never the words and numbers beside it. The text is shown as it is.
 */
export function UserText({ children, ...rest }: Omit<HTMLAttributes<HTMLElement>, 'children'> & { children: string }) {
  return <bdi {...rest}>{children}</bdi>;
}
