import type { ReactNode } from 'react';
import { Logo } from '../../app/Logo';

export function AuthLayout({ title, subtitle, children, footer }: { title: string; subtitle?: ReactNode; children: ReactNode; footer?: ReactNode }) {
  return (
    <div className="flex min-h-screen flex-col items-center justify-center bg-gradient-to-b from-stone-50 to-teal-50/40 px-4 py-12">
      <div className="mb-6 flex items-center gap-2 text-stone-800">
        <Logo className="h-8 w-8" />
        <span className="text-lg font-semibold tracking-tight">Context Vault</span>
      </div>
      <main className="w-full max-w-md rounded-2xl border border-stone-200 bg-white p-8 shadow-sm">
        <h1 className="text-xl font-semibold tracking-tight text-stone-900">{title}</h1>
        {subtitle && <p className="mt-1 text-sm text-stone-600">{subtitle}</p>}
        <div className="mt-6">{children}</div>
      </main>
      {footer && <div className="mt-6 text-center text-sm text-stone-600">{footer}</div>}
      <p className="mt-8 max-w-sm text-center text-xs text-stone-500">
        End-to-end encrypted with your passphrase. Your documents and health records never leave the server you run.
      </p>
    </div>
  );
}
