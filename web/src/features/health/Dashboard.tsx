import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { flushSync } from 'react-dom';
import { api, qs } from '../../api/client';
import { Button, TOUCH_TARGET } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { ErrorText } from '../../components/ui/Feedback';
import { SelectField } from '../../components/ui/Field';
import { fmt, unitLabel, type Dashboard as DashboardData, type DashboardCard, type Preferences } from './health-api';

const SeriesChart = lazy(() => import('./SeriesChart'));

const COLORS = ['#be123c', '#2563eb', '#0f766e', '#b45309'];
const RANGES = [
  { days: 0, label: 'Latest' },
  { days: 90, label: '90 days' },
  { days: 365, label: '1 year' },
  { days: 5 * 365, label: '5 years' },
];
const DIGITS: Record<string, number> = { weight: 1, bmi: 1, temperature: 1, glucose: 1, distance: 1, hrv: 0 };

function MetricCard({ card }: { card: DashboardCard }) {
  const mode = card.stat === 'sum' ? 'bar' : 'line';
  const digits = DIGITS[card.key] ?? 0;
  const series = card.series.map((s, i) => ({
    label: s.label,
    color: COLORS[i % COLORS.length]!,
    days: s.points.map((p) => ({ date: p.date, days: p.days, count: p.count, min: p.min, max: p.max, mean: p.mean, sum: p.sum })),
  }));
  const latest = card.series.map((s) => s.points.at(-1)).filter((p) => p !== undefined);
  const unit = unitLabel(card.unit);
  // A week's or month's total is "a week"/"a month"; a level (weight, BMI, HRV) is just the level.
  const per = card.stat !== 'sum' || card.resolution === 'day' ? '' : card.resolution === 'week' ? ' a week' : ' a month';
  return (
    <section className="rounded-xl border border-stone-200 bg-white p-5 shadow-sm" aria-label={card.title} data-testid={`card-${card.key}`}>
      <div className="mb-3 flex items-baseline justify-between gap-2">
        <h3 className="text-sm font-semibold text-stone-900">{card.title}</h3>
        {latest.length > 0 && (
          <p className="text-right text-xs text-stone-500">
            Latest{' '}
            <span className="text-base font-semibold tabular-nums text-stone-900">
              {latest.map((p) => fmt(card.stat === 'sum' ? p.sum : p.mean, digits)).join('/')}
            </span>
            {unit ? ` ${unit}` : ''}
            {per}
          </p>
        )}
      </div>
      {series.every((s) => s.days.length === 0) ? (
        <div className="flex h-40 items-center justify-center rounded-lg bg-stone-50 text-sm text-stone-500">
          No {card.title.toLowerCase()} data in this range.
        </div>
      ) : (
        <Suspense fallback={<div className="h-40 animate-pulse rounded-lg bg-stone-100" />}>
          <SeriesChart title={card.title} unit={unit} series={series} mode={mode} from={card.from} to={card.to} digits={digits} resolution={card.resolution} />
        </Suspense>
      )}
      <div className="mt-1 flex flex-wrap justify-between gap-2 text-xs text-stone-500">
        <span>
          {card.from} – {card.to}
          {card.resolution !== 'day' ? ` · ${card.resolution}ly` : ''}
        </span>
        {series.length > 1 && (
          <span className="flex gap-3">
            {series.map((s) => (
              <span key={s.label} className="flex items-center gap-1">
                <span className="inline-block h-2 w-2 rounded-full" style={{ background: s.color }} /> {s.label}
              </span>
            ))}
          </span>
        )}
      </div>
    </section>
  );
}

/**
 * After a Move: focus stays on the pressed button, or, where the card reached the end of the list
 * and that button is disabled now, goes to the card's other Move button. A disabled button drops
 * focus to the dialog itself, and reordering the rows can drop it too.
 */
function keepMoveFocus(pressed: HTMLButtonElement, moveNow: () => void): void {
  flushSync(moveNow);
  const target = pressed.disabled ? [...(pressed.parentElement?.querySelectorAll('button') ?? [])].find((b) => b !== pressed && !b.disabled) : pressed;
  if (target && document.activeElement !== target) target.focus();
}

function CustomizeDialog({
  open,
  onOpenChange,
  data,
  prefs,
  onSaved,
}: {
  open: boolean;
  onOpenChange: (o: boolean) => void;
  data: DashboardData;
  prefs: Preferences;
  onSaved: () => void;
}) {
  const shown = new Set(data.cards.map((c) => c.key));
  const [order, setOrder] = useState(() => data.available.map((a) => ({ ...a, on: shown.has(a.key) })));
  const [units, setUnits] = useState<NonNullable<Preferences['units']>>(prefs.units ?? {});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const move = (i: number, d: -1 | 1) =>
    setOrder((o) => {
      const n = [...o];
      const j = i + d;
      if (j < 0 || j >= n.length) return o;
      [n[i], n[j]] = [n[j]!, n[i]!];
      return n;
    });
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.request('/api/preferences', {
        method: 'PUT',
        body: { cards: order.map((o) => o.key), hidden: order.filter((o) => !o.on).map((o) => o.key), units },
      });
      onSaved();
      onOpenChange(false);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title="Customize dashboard"
      description="Choose the cards you want, in the order you want them, and your units. Saved encrypted in your vault."
    >
      <ol className="divide-y divide-stone-100 rounded-lg border border-stone-200">
        {order.map((o, i) => (
          <li key={o.key} className="flex items-center justify-between gap-2 px-3 py-2" data-testid={`choose-${o.key}`}>
            <label className="flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                checked={o.on}
                onChange={(e) => setOrder((list) => list.map((x) => (x.key === o.key ? { ...x, on: e.target.checked } : x)))}
              />
              {o.title}
            </label>
            <span className="flex gap-1">
              <Button
                size="sm"
                variant="ghost"
                aria-label={`Move ${o.title} up`}
                disabled={i === 0}
                onClick={(e) => keepMoveFocus(e.currentTarget, () => move(i, -1))}
              >
                ↑
              </Button>
              <Button
                size="sm"
                variant="ghost"
                aria-label={`Move ${o.title} down`}
                disabled={i === order.length - 1}
                onClick={(e) => keepMoveFocus(e.currentTarget, () => move(i, 1))}
              >
                ↓
              </Button>
            </span>
          </li>
        ))}
      </ol>
      <div className="mt-4 grid grid-cols-2 gap-3">
        <SelectField
          label="Weight"
          value={units.weight ?? ''}
          onChange={(e) => setUnits({ ...units, weight: (e.target.value || undefined) as 'kg' | 'lb' | undefined })}
        >
          <option value="">As recorded</option>
          <option value="kg">kg</option>
          <option value="lb">lb</option>
        </SelectField>
        <SelectField
          label="Distance"
          value={units.distance ?? ''}
          onChange={(e) => setUnits({ ...units, distance: (e.target.value || undefined) as 'km' | 'mi' | undefined })}
        >
          <option value="">As recorded</option>
          <option value="km">km</option>
          <option value="mi">mi</option>
        </SelectField>
        <SelectField
          label="Glucose and cholesterol"
          value={units.glucose ?? ''}
          onChange={(e) => setUnits({ ...units, glucose: (e.target.value || undefined) as 'mg/dL' | 'mmol/L' | undefined })}
        >
          <option value="">As recorded</option>
          <option value="mg/dL">mg/dL</option>
          <option value="mmol/L">mmol/L</option>
        </SelectField>
        <SelectField
          label="HbA1c"
          value={units.hba1c ?? ''}
          onChange={(e) => setUnits({ ...units, hba1c: (e.target.value || undefined) as '%' | 'mmol/mol' | undefined })}
        >
          <option value="">As recorded</option>
          <option value="%">%</option>
          <option value="mmol/mol">mmol/mol</option>
        </SelectField>
      </div>
      <ErrorText error={error} className="mt-3" />
      <div className="mt-5 flex justify-end gap-2">
        <Button variant="secondary" onClick={() => onOpenChange(false)}>
          Cancel
        </Button>
        <Button onClick={save} busy={busy}>
          Save
        </Button>
      </div>
    </Dialog>
  );
}

/** Every series the vault holds, as cards the person chooses and orders; each opens on a range with data. */
export function Dashboard({ version }: { version: number }) {
  const [days, setDays] = useState(0);
  const [data, setData] = useState<DashboardData | null>(null);
  const [prefs, setPrefs] = useState<Preferences>({});
  const [error, setError] = useState<unknown>(null);
  const [customizing, setCustomizing] = useState(false);
  const [saved, setSaved] = useState(0);

  const load = useCallback(async () => {
    setError(null);
    try {
      const p = await api.get<Preferences>('/api/preferences');
      setPrefs(p);
      let range = {};
      if (days) {
        // Ranges end at the latest data anywhere, so an old export still fills the charts; data
        // dated only after today (a source's typo) does not move them there.
        const probe = data ?? (await api.get<DashboardData>('/api/records/dashboard'));
        const to = probe.available
          .flatMap((a) => (a.last === a.later ? [] : [a.last]))
          .sort()
          .at(-1);
        if (to) range = { from: new Date(Date.parse(`${to}T00:00:00Z`) - (days - 1) * 86_400_000).toISOString().slice(0, 10), to };
      }
      setData(await api.get<DashboardData>(`/api/records/dashboard${qs(range)}`));
    } catch (e) {
      setError(e);
    }
    // `data` is left out on purpose: reloading on every new response would loop.
  }, [days, version, saved]);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section aria-labelledby="dashboard-h" className="mb-10">
      <div className="mb-3 flex flex-wrap items-end justify-between gap-3">
        <h2 id="dashboard-h" className="text-lg font-semibold text-stone-900">
          Dashboard
        </h2>
        <div className="flex flex-wrap items-center gap-3">
          <div role="group" aria-label="Range" className="flex rounded-lg bg-stone-200/70 p-0.5">
            {RANGES.map((r) => (
              <button
                key={r.days}
                type="button"
                aria-pressed={days === r.days}
                onClick={() => setDays(r.days)}
                className={`rounded-md px-3 py-1 text-sm font-medium ${TOUCH_TARGET} ${days === r.days ? 'bg-white text-stone-900 shadow-sm' : 'text-stone-600 hover:text-stone-900'}`}
              >
                {r.label}
              </button>
            ))}
          </div>
          {data && data.available.length > 0 && (
            <Button size="sm" variant="secondary" onClick={() => setCustomizing(true)}>
              Customize
            </Button>
          )}
        </div>
      </div>
      <ErrorText error={error} onRetry={() => void load()} />
      {data && data.available.length === 0 && (
        <p className="rounded-xl border border-dashed border-stone-300 p-6 text-center text-sm text-stone-500">
          {/* Lab results and other records are listed under Records, so "no data" would be wrong here. */}
          No measurements to chart yet, such as weight, heart rate or steps. Import an export below or add a measurement.
        </p>
      )}
      <div className="grid gap-4 lg:grid-cols-2" data-testid="dashboard-cards">
        {data?.cards.map((c) => (
          <MetricCard key={c.key} card={c} />
        ))}
      </div>
      {data && customizing && (
        <CustomizeDialog open={customizing} onOpenChange={setCustomizing} data={data} prefs={prefs} onSaved={() => setSaved((n) => n + 1)} />
      )}
    </section>
  );
}
