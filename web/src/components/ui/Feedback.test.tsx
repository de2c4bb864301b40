import { fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { ErrorText } from './Feedback';

describe('<ErrorText>', () => {
  it('announces one failure once, however many sections show the same message (Health with its record queries failing)', () => {
    render(
      <>
        <ErrorText error={new Error('Internal error')} />
        <ErrorText error={new Error('Internal error')} />
        <ErrorText error={new Error('Internal error')} />
        <ErrorText error={new Error('Something else')} />
      </>,
    );
    // Every section still shows what went wrong; a screen reader hears each message once.
    expect(screen.getAllByText('Internal error')).toHaveLength(3);
    expect(screen.getAllByRole('alert').map((a) => a.textContent)).toEqual(['Internal error', 'Something else']);
  });

  it('announces the message again once the first box is gone and it comes back', () => {
    const { rerender } = render(<ErrorText error={new Error('Internal error')} />);
    expect(screen.getAllByRole('alert')).toHaveLength(1);
    rerender(<ErrorText error={null} />);
    rerender(<ErrorText error={new Error('Internal error')} />);
    expect(screen.getAllByRole('alert')).toHaveLength(1);
  });

  it('with onRetry, offers Try again; one press retries every section showing that failure', () => {
    const a = vi.fn();
    const b = vi.fn();
    const other = vi.fn();
    render(
      <>
        <ErrorText error={new Error('Internal error')} onRetry={a} />
        <ErrorText error={new Error('Internal error')} onRetry={b} />
        <ErrorText error={new Error('Other')} onRetry={other} />
      </>,
    );
    fireEvent.click(screen.getAllByRole('button', { name: 'Try again' })[0]!);
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).toHaveBeenCalledTimes(1);
    expect(other).not.toHaveBeenCalled();
  });

  it('keeps focus on the page (its section heading) when Try again makes the box go away', () => {
    function Section() {
      const [error, setError] = useState<unknown>(new Error('Internal error'));
      return (
        <section aria-labelledby="h">
          <h2 id="h">Dashboard</h2>
          <ErrorText error={error} onRetry={() => setError(null)} />
        </section>
      );
    }
    render(<Section />);
    const retry = screen.getByRole('button', { name: 'Try again' });
    retry.focus();
    fireEvent.click(retry);
    expect(screen.queryByRole('button', { name: 'Try again' })).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Dashboard' }));
  });

  it('takes an id, for the field it is about to point at (aria-describedby)', () => {
    render(<ErrorText id="err" error={new Error('Wrong')} />);
    expect(screen.getByRole('alert').id).toBe('err');
  });
});
