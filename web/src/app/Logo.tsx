export function Logo({ className = 'h-6 w-6' }: { className?: string }) {
  return (
    <svg className={className} viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="#0f766e" />
      <path d="M10 14v-3a6 6 0 0 1 12 0v3" fill="none" stroke="#fff" strokeWidth="2.5" />
      <rect x="8" y="14" width="16" height="11" rx="2.5" fill="#fff" />
      <circle cx="16" cy="19.5" r="1.8" fill="#0f766e" />
    </svg>
  );
}
