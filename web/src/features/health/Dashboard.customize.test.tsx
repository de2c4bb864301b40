import { fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Dashboard } from './Dashboard';

function json(body: unknown) {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
}

afterEach(() => vi.unstubAllGlobals());

const available = [
  { key: 'weight', title: 'Weight', first: '2024-01-01', last: '2024-05-04', later: '2024-05-04' },
  { key: 'heart_rate', title: 'Heart rate', first: '2024-01-01', last: '2024-05-04', later: '2024-05-04' },
  { key: 'steps', title: 'Steps', first: '2024-01-01', last: '2024-05-04', later: '2024-05-04' },
];

async function openCustomize() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => (url === '/api/preferences' ? json({}) : json({ available, cards: [] }))),
  );
  render(<Dashboard version={0} />);
  fireEvent.click(await screen.findByRole('button', { name: 'Customize' }));
  await screen.findByRole('dialog', { name: 'Customize dashboard' });
}

/** Enter on the focused button. */
function press(name: string) {
  const button = screen.getByRole('button', { name });
  button.focus();
  fireEvent.click(button);
}

describe('<Dashboard> Customize: moving a card', () => {
  it('keeps focus on the card’s Move button while it can move on, and on its other Move button at the end', async () => {
    await openCustomize();
    press('Move Heart rate down');
    // The Heart rate card is last now: its down button is disabled, and a browser would drop focus
    // to the dialog (jsdom does not, so this asks where focus was put).
    expect((screen.getByRole('button', { name: 'Move Heart rate down' }) as HTMLButtonElement).disabled).toBe(true);
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Move Heart rate up' }));

    press('Move Heart rate up');
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Move Heart rate up' }));
    fireEvent.click(screen.getByRole('button', { name: 'Move Heart rate up' }));
    expect((screen.getByRole('button', { name: 'Move Heart rate up' }) as HTMLButtonElement).disabled).toBe(true);
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Move Heart rate down' }));
    expect(screen.getAllByTestId(/^choose-/).map((li) => li.dataset.testid)).toEqual(['choose-heart_rate', 'choose-weight', 'choose-steps']);
  });
});
