/** Model sizes as people read them: 4.9 GB (decimal, as Ollama and model pages show them). */
export function formatModelSize(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/** 131072 -> "128K tokens". */
export function formatContext(tokens: number): string {
  return tokens >= 1024 && tokens % 1024 === 0 ? `${tokens / 1024}K tokens` : `${tokens} tokens`;
}

/** Memory in GiB, the unit SANDBOX_MEMORY_MB (MiB) converts to without rounding surprises. */
export function formatGiB(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}
