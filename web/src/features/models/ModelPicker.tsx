import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { ModelsResponse } from '../../api/types';

/**
 * The model of the open chat: the server's models, the default first. Hidden while there is
 * nothing to choose from (one model or none).
 */
export function ModelPicker({ value, onChange, disabled }: { value: string | null; onChange: (model: string | null) => void; disabled?: boolean }) {
  const [data, setData] = useState<ModelsResponse | null>(null);
  useEffect(() => {
    api
      .get<ModelsResponse>('/api/models')
      // Anything but a model list (an older server, an error page) leaves the picker hidden.
      // Embedding models cannot answer a chat: they are not offered.
      .then((r) => setData(Array.isArray(r?.models) ? { ...r, models: r.models.filter((m) => m.kind !== 'embedding') } : null))
      .catch(() => setData(null));
  }, []);
  if (!data || data.models.length < 2) return null;
  const def = data.defaults.chat;
  const current = value ?? def;
  return (
    <div className="mt-1.5 flex items-center gap-2 px-1 text-xs text-stone-600">
      <label htmlFor="chat-model">Model</label>
      <select
        id="chat-model"
        data-testid="chat-model"
        value={current}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value)}
        className="rounded-md border border-stone-300 bg-white px-2 py-1 text-xs text-stone-800 focus-visible:outline-2 focus-visible:outline-teal-600"
      >
        {!data.models.some((m) => m.name === def) && <option value={def}>{def} (default)</option>}
        {data.models.map((m) => (
          <option key={m.name} value={m.name}>
            {m.name}
            {m.name === def ? ' (default)' : ''}
            {m.fits ? '' : ' — too large for this server'}
          </option>
        ))}
      </select>
    </div>
  );
}
