import { estimateStrength } from './passphrase-strength';

const COLORS = ['bg-red-600', 'bg-orange-500', 'bg-amber-400', 'bg-lime-600', 'bg-emerald-600'];

export function PassphraseStrength({ passphrase, email, id }: { passphrase: string; email?: string; id?: string }) {
  const s = estimateStrength(passphrase, email);
  return (
    <div id={id} className="mt-2" data-testid="passphrase-strength">
      <div className="flex gap-1" aria-hidden="true">
        {[0, 1, 2, 3, 4].map((i) => (
          <div key={i} className={`h-1.5 flex-1 rounded-full ${passphrase && i <= s.score ? COLORS[s.score] : 'bg-stone-200'}`} />
        ))}
      </div>
      <p className="mt-1 text-xs text-stone-600" aria-live="polite">
        Strength: <span className="font-semibold text-stone-800">{passphrase ? s.label : '—'}</span>
      </p>
      {passphrase && s.hints.length > 0 && (
        <ul className="mt-1 list-disc pl-4 text-xs text-stone-600">
          {s.hints.map((h) => (
            <li key={h}>{h}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function LostPassphraseWarning() {
  return (
    <div role="note" className="rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-950">
      <p className="font-semibold">Your passphrase is the only key to your vault.</p>
      <p className="mt-1">
        Everything is encrypted with it, and we never store it. If you lose both your passphrase and your recovery key, your data is gone for good — nobody,
        including us, can get it back.
      </p>
    </div>
  );
}
