import type { Item } from '../../api/types';
import { recordValue } from './record-values';

export function ValueWithRange({ item }: { item: Item }) {
  const v = recordValue(item);
  if (!v.value && !v.range && !v.status) return null;
  return (
    <span className="flex flex-wrap items-baseline gap-x-2 text-sm">
      {v.value && (
        <span className={`font-semibold tabular-nums ${v.flag === 1 || v.flag === -1 ? 'text-amber-800' : 'text-stone-900'}`}>
          {v.value}
          {v.unit ? ` ${v.unit}` : ''}
          {v.flag === 1 && <span className="ml-1 text-xs font-medium">(high)</span>}
          {v.flag === -1 && <span className="ml-1 text-xs font-medium">(low)</span>}
        </span>
      )}
      {v.range && <span className="text-xs text-stone-500">Reference range {v.range}</span>}
      {v.interpretation && <span className="text-xs text-stone-500">· {v.interpretation}</span>}
      {v.status && !v.value && <span className="text-xs text-stone-500">{v.status}</span>}
    </span>
  );
}

export function RecordDetails({ item }: { item: Item }) {
  const v = recordValue(item);
  if (!v.value && !v.range && !v.status) return null;
  return (
    <dl className="mt-6 grid grid-cols-2 gap-4 rounded-xl border border-stone-200 bg-white p-5 shadow-sm sm:grid-cols-4">
      {v.value && (
        <div>
          <dt className="text-xs text-stone-500">Value</dt>
          <dd className="text-lg font-semibold tabular-nums">
            {v.value}
            {v.unit ? ` ${v.unit}` : ''}
          </dd>
        </div>
      )}
      {v.range && (
        <div>
          <dt className="text-xs text-stone-500">Reference range</dt>
          <dd className="text-sm">{v.range}</dd>
        </div>
      )}
      {v.interpretation && (
        <div>
          <dt className="text-xs text-stone-500">Interpretation</dt>
          <dd className="text-sm">{v.interpretation}</dd>
        </div>
      )}
      {v.status && (
        <div>
          <dt className="text-xs text-stone-500">Status</dt>
          <dd className="text-sm">{v.status}</dd>
        </div>
      )}
      <div>
        <dt className="text-xs text-stone-500">Code</dt>
        <dd className="break-all font-mono text-xs">{item.type}</dd>
      </div>
    </dl>
  );
}
