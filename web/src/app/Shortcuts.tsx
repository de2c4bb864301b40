import { useEffect, useState } from 'react';
import { Dialog } from '../components/ui/Dialog';
import { useRouter } from './router';

/** Every shortcut, as the help dialog lists it. */
export const SHORTCUTS: Array<{ keys: string[]; does: string }> = [
  { keys: ['N'], does: 'New note' },
  { keys: ['/'], does: 'Search the vault' },
  { keys: ['C'], does: 'New chat' },
  { keys: ['Enter'], does: 'Send the message (in chat; Shift+Enter for a new line)' },
  { keys: ['Esc'], does: 'Stop the answer being written' },
  { keys: ['?'], does: 'Show these shortcuts' },
];

const typing = (t: EventTarget | null) => t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));

/**
 * Single-key shortcuts, ignored while typing in a field or with a modifier held (so browser and
 * screen-reader keys keep working). Pages act on the `intent` query parameter (`?intent=new-note`,
 * `?intent=search`, `?intent=new-chat`), so a shortcut works from any page.
 */
export function Shortcuts() {
  const { navigate } = useRouter();
  const [help, setHelp] = useState(false);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      if (document.querySelector('[role="dialog"]')) return;
      const go = (to: string) => {
        e.preventDefault();
        navigate(to);
      };
      if (e.key === '?') {
        e.preventDefault();
        setHelp(true);
      } else if (e.key === 'n' || e.key === 'N') go('/vault?intent=new-note');
      else if (e.key === '/') go('/vault?intent=search');
      else if (e.key === 'c' || e.key === 'C') go('/chat?intent=new-chat');
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);

  return (
    <Dialog open={help} onOpenChange={setHelp} title="Keyboard shortcuts" description="Single keys work anywhere except while you are typing in a field.">
      <table className="w-full text-sm">
        <thead className="sr-only">
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.does} className="border-b border-stone-100 last:border-0">
              <td className="py-2 pr-4">
                {s.keys.map((k) => (
                  <kbd key={k} className="rounded border border-stone-300 bg-stone-100 px-1.5 py-0.5 font-mono text-xs text-stone-800">
                    {k}
                  </kbd>
                ))}
              </td>
              <td className="py-2 text-stone-700">{s.does}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}
