import { useId, useState } from 'react';
import { getThemePref, setThemePref, type ThemePref } from '../../app/theme';
import { Card } from '../../components/ui/Feedback';

const CHOICES: Array<{ value: ThemePref; label: string }> = [
  { value: 'system', label: 'Same as the system' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

/** Colour scheme: follows the system unless a choice is made here (kept in this browser only). */
export function Appearance() {
  const [pref, setPref] = useState<ThemePref>(getThemePref);
  const name = useId();
  return (
    <Card title="Appearance" description="Choose light or dark, or follow your device's setting. Kept in this browser only.">
      <fieldset>
        <legend className="mb-2 text-sm font-medium text-stone-700">Colour scheme</legend>
        <div className="flex flex-wrap gap-4 text-sm">
          {CHOICES.map((c) => (
            <label key={c.value} className="flex items-center gap-2">
              <input
                type="radio"
                name={name}
                value={c.value}
                checked={pref === c.value}
                onChange={() => {
                  setPref(c.value);
                  setThemePref(c.value);
                }}
                className="accent-teal-700"
              />
              {c.label}
            </label>
          ))}
        </div>
      </fieldset>
    </Card>
  );
}
