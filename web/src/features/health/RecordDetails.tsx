import type { Item } from '../../api/types';
import { Link } from '../../app/router';
import { recordValue } from './record-values';

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
      {item.type && item.data?.resourceType === 'Observation' && typeof item.data.value === 'number' && (
        <div className="col-span-2 sm:col-span-4">
          <Link to={`/health/labs/${encodeURIComponent(item.type)}`} className="text-sm font-medium text-teal-800 hover:underline">
            Every result of this test over time →
          </Link>
        </div>
      )}
    </dl>
  );
}
