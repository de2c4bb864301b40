import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { ErrorText } from '../../components/ui/Feedback';
import { SelectField, TextField } from '../../components/ui/Field';
import type { Item } from '../../api/types';
import type { ManualKind as Kind } from './manual-entry';
const KINDS: Array<[Kind, string]> = [
  ['blood_pressure', 'Blood pressure'],
  ['weight', 'Weight'],
  ['glucose', 'Blood glucose'],
  ['temperature', 'Temperature'],
  ['medication', 'Medication'],
  ['allergy', 'Allergy'],
  ['condition', 'Condition'],
];

/** The local date and time of an <input type="datetime-local">, with this browser's offset. */
export function withOffset(local: string, d = new Date(local)): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${local.length === 16 ? `${local}:00` : local}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

function nowLocal(): string {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

/** Add a measurement, a medication, an allergy or a condition by hand, or edit one (`editing`). */
export function ManualEntryDialog({
  open,
  onOpenChange,
  onSaved,
  editing,
}: {
  open: boolean;
  onOpenChange: (o: boolean) => void;
  onSaved: (item: Item) => void;
  editing?: { id: string; kind: Kind; fields: Record<string, string> };
}) {
  const [kind, setKind] = useState<Kind>(editing?.kind ?? 'blood_pressure');
  const [f, setF] = useState<Record<string, string>>(editing?.fields ?? { at: nowLocal(), unit: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const set = (k: string) => (e: { target: { value: string } }) => setF((x) => ({ ...x, [k]: e.target.value }));
  const opt = (v: string | undefined) => (v && v.trim() ? v.trim() : undefined);

  const body = (): Record<string, unknown> => {
    const at = withOffset(f.at ?? nowLocal());
    switch (kind) {
      case 'blood_pressure':
        return { kind, systolic: Number(f.systolic), diastolic: Number(f.diastolic), at, note: opt(f.note) };
      case 'weight':
        return { kind, value: Number(f.value), unit: f.unit || 'kg', at, note: opt(f.note) };
      case 'glucose':
        return { kind, value: Number(f.value), unit: f.unit || 'mmol/L', at, note: opt(f.note) };
      case 'temperature':
        return { kind, value: Number(f.value), unit: f.unit || 'Cel', at, note: opt(f.note) };
      case 'medication':
        return { kind, name: f.name ?? '', dosage: opt(f.dosage), status: f.status || 'active', start: opt(f.start), end: opt(f.end), note: opt(f.note) };
      case 'allergy':
        return { kind, substance: f.name ?? '', reaction: opt(f.reaction), criticality: opt(f.criticality), status: f.status || 'active', note: opt(f.note) };
      case 'condition':
        return { kind, name: f.name ?? '', status: f.status || 'active', onset: opt(f.start), note: opt(f.note) };
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const saved = editing
        ? await api.request(`/api/records/manual/${encodeURIComponent(editing.id)}`, { method: 'PUT', body: body() }).then((r) => r.json() as Promise<Item>)
        : await api.post<Item>('/api/records/manual', body());
      onSaved(saved);
      onOpenChange(false);
      if (!editing) setF({ at: nowLocal(), unit: '' });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const measurement = ['blood_pressure', 'weight', 'glucose', 'temperature'].includes(kind);
  const units: Partial<Record<Kind, string[]>> = { weight: ['kg', 'lb'], glucose: ['mmol/L', 'mg/dL'], temperature: ['Cel', '[degF]'] };
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title={editing ? 'Edit entry' : 'Add an entry'}
      description="Stored encrypted as a health record of your own, shown in charts, lists, search and chat."
    >
      <form onSubmit={submit} className="space-y-3">
        <SelectField label="What" value={kind} disabled={!!editing} onChange={(e) => setKind(e.target.value as Kind)}>
          {KINDS.map(([k, label]) => (
            <option key={k} value={k}>
              {label}
            </option>
          ))}
        </SelectField>
        {kind === 'blood_pressure' && (
          <div className="grid grid-cols-2 gap-3">
            <TextField
              label="Systolic (mmHg)"
              type="number"
              inputMode="numeric"
              required
              min={40}
              max={300}
              value={f.systolic ?? ''}
              onChange={set('systolic')}
            />
            <TextField
              label="Diastolic (mmHg)"
              type="number"
              inputMode="numeric"
              required
              min={20}
              max={200}
              value={f.diastolic ?? ''}
              onChange={set('diastolic')}
            />
          </div>
        )}
        {units[kind] && (
          <div className="grid grid-cols-2 gap-3">
            <TextField label="Value" type="number" step="any" required value={f.value ?? ''} onChange={set('value')} />
            <SelectField label="Unit" value={f.unit || units[kind]![0]} onChange={set('unit')}>
              {units[kind]!.map((u) => (
                <option key={u} value={u}>
                  {{ Cel: '°C', '[degF]': '°F' }[u] ?? u}
                </option>
              ))}
            </SelectField>
          </div>
        )}
        {measurement && <TextField label="When" type="datetime-local" required value={f.at ?? ''} onChange={set('at')} />}
        {!measurement && <TextField label={kind === 'allergy' ? 'Substance' : 'Name'} required maxLength={200} value={f.name ?? ''} onChange={set('name')} />}
        {kind === 'medication' && <TextField label="Dosage" placeholder="e.g. 500 mg twice daily" value={f.dosage ?? ''} onChange={set('dosage')} />}
        {kind === 'allergy' && (
          <div className="grid grid-cols-2 gap-3">
            <TextField label="Reaction" value={f.reaction ?? ''} onChange={set('reaction')} />
            <SelectField label="Criticality" value={f.criticality ?? ''} onChange={set('criticality')}>
              <option value="">Not known</option>
              <option value="low">Low</option>
              <option value="high">High</option>
            </SelectField>
          </div>
        )}
        {(kind === 'medication' || kind === 'condition') && (
          <div className="grid grid-cols-2 gap-3">
            <SelectField label="Status" value={f.status ?? 'active'} onChange={set('status')}>
              <option value="active">{kind === 'medication' ? 'Taking now' : 'Active'}</option>
              {kind === 'medication' ? <option value="stopped">Stopped</option> : <option value="resolved">Resolved</option>}
            </SelectField>
            <TextField label={kind === 'medication' ? 'Started' : 'Since'} type="date" value={f.start ?? ''} onChange={set('start')} />
          </div>
        )}
        <TextField label="Note (optional)" value={f.note ?? ''} onChange={set('note')} />
        <ErrorText error={error} />
        <div className="flex justify-end gap-2 pt-2">
          <Button variant="secondary" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" busy={busy}>
            Save
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
