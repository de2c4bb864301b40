import * as RD from '@radix-ui/react-dialog';
import { useLayoutEffect, useRef, type ReactNode } from 'react';
import { focusLost, focusPageHeading } from '../focus';
import { TOUCH_TARGET } from './Button';

export interface DialogProps {
  open: boolean;
  onOpenChange?: (open: boolean) => void;
  title: ReactNode;
  description?: ReactNode;
  children: ReactNode;
  /** A dialog the user must answer (recovery key): no closing by Escape or outside click. */
  modal?: 'dismissable' | 'required';
  wide?: boolean;
}

export function Dialog({ open, onOpenChange, title, description, children, modal = 'dismissable', wide }: DialogProps) {
  const required = modal === 'required';
  // Our dialogs are opened by state, not by a Radix Trigger, so Radix has nothing to give focus
  // back to on close: remember what had focus when the dialog opened, before focus moves into it.
  const opener = useRef<HTMLElement | null>(null);
  useLayoutEffect(() => {
    if (open) opener.current = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null;
  }, [open]);
  const returnFocus = (e: Event) => {
    const el = opener.current;
    opener.current = null;
    e.preventDefault();
    // Radix returns focus a task after the dialog is gone: by then a shortcut or the page may have
    // put it somewhere (the search box after "/"); only focus that fell to <body> is returned.
    if (!focusLost()) return;
    if (el?.isConnected) return el.focus();
    // The opener is gone (its row was deleted, the dialog led to another page): start at the page's
    // heading rather than at <body>.
    focusPageHeading();
  };
  return (
    <RD.Root open={open} onOpenChange={required ? undefined : onOpenChange}>
      <RD.Portal>
        <RD.Overlay className="fixed inset-0 z-40 bg-stone-900/40 backdrop-blur-[2px]" />
        <RD.Content
          className={`fixed left-1/2 top-1/2 z-50 max-h-[90vh] w-[calc(100vw-2rem)] ${wide ? 'max-w-2xl' : 'max-w-lg'} -translate-x-1/2 -translate-y-1/2 overflow-y-auto rounded-2xl bg-white p-6 shadow-xl focus:outline-none`}
          onCloseAutoFocus={returnFocus}
          onEscapeKeyDown={required ? (e) => e.preventDefault() : undefined}
          onPointerDownOutside={required ? (e) => e.preventDefault() : undefined}
          onInteractOutside={required ? (e) => e.preventDefault() : undefined}
        >
          <RD.Title className="text-lg font-semibold text-stone-900">{title}</RD.Title>
          {description ? (
            <RD.Description className="mt-1 text-sm text-stone-600">{description}</RD.Description>
          ) : (
            <RD.Description className="sr-only">{title}</RD.Description>
          )}
          <div className="mt-4">{children}</div>
          {!required && (
            <RD.Close
              className={`absolute right-4 top-4 inline-flex items-center justify-center rounded-md p-1 text-stone-500 hover:bg-stone-100 focus-visible:outline-2 focus-visible:outline-teal-600 ${TOUCH_TARGET}`}
              aria-label="Close"
            >
              <svg viewBox="0 0 20 20" className="h-5 w-5" aria-hidden="true">
                <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
              </svg>
            </RD.Close>
          )}
        </RD.Content>
      </RD.Portal>
    </RD.Root>
  );
}
