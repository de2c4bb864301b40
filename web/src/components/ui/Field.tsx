import { forwardRef, useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';

export const inputClass =
  'block w-full rounded-lg border border-stone-300 bg-white px-3 py-2 text-sm text-stone-900 shadow-sm placeholder:text-stone-400 focus:border-teal-600 focus:outline-2 focus:outline-teal-600 aria-[invalid=true]:border-red-600';

interface FieldShell {
  label: string;
  inputClassName?: string;
  hint?: ReactNode;
  error?: string | null;
}

export const TextField = forwardRef<HTMLInputElement, InputHTMLAttributes<HTMLInputElement> & FieldShell>(function TextField(
  { label, hint, error, id, className = '', inputClassName = '', 'aria-describedby': describedBy, 'aria-invalid': invalid, ...rest },
  ref,
) {
  const auto = useId();
  const fid = id ?? auto;
  const hintId = hint ? `${fid}-hint` : undefined;
  const errId = error ? `${fid}-err` : undefined;
  // A caller's description (a server error about this field, a strength meter) comes first; the
  // field's own hint and error are kept, not replaced.
  return (
    <div className={className}>
      <label htmlFor={fid} className="mb-1 block text-sm font-medium text-stone-700">
        {label}
      </label>
      <input
        ref={ref}
        id={fid}
        className={`${inputClass} ${inputClassName}`}
        {...rest}
        aria-invalid={invalid ?? (error ? true : undefined)}
        aria-describedby={[describedBy, hintId, errId].filter(Boolean).join(' ') || undefined}
      />
      {hint && (
        <div id={hintId} className="mt-1 text-xs text-stone-500">
          {hint}
        </div>
      )}
      {error && (
        <p id={errId} className="mt-1 text-sm text-red-700">
          {error}
        </p>
      )}
    </div>
  );
});

export const TextArea = forwardRef<HTMLTextAreaElement, TextareaHTMLAttributes<HTMLTextAreaElement> & FieldShell>(function TextArea(
  { label, hint, error, id, className = '', inputClassName = '', ...rest },
  ref,
) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <div className={className}>
      <label htmlFor={fid} className="mb-1 block text-sm font-medium text-stone-700">
        {label}
      </label>
      <textarea ref={ref} id={fid} className={`${inputClass} min-h-40 leading-relaxed ${inputClassName}`} aria-invalid={error ? true : undefined} {...rest} />
      {hint && <div className="mt-1 text-xs text-stone-500">{hint}</div>}
      {error && <p className="mt-1 text-sm text-red-700">{error}</p>}
    </div>
  );
});

export function SelectField({ label, id, className = '', children, ...rest }: SelectHTMLAttributes<HTMLSelectElement> & { label: string }) {
  const auto = useId();
  const fid = id ?? auto;
  return (
    <div className={className}>
      <label htmlFor={fid} className="mb-1 block text-xs font-medium text-stone-600">
        {label}
      </label>
      <select id={fid} className={`${inputClass} py-1.5`} {...rest}>
        {children}
      </select>
    </div>
  );
}
