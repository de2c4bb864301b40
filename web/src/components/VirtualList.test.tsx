import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { VirtualList } from './VirtualList';

const items = Array.from({ length: 10_000 }, (_, i) => ({ id: `id-${i}`, title: `Item ${i}` }));

function setup(onEndReached = vi.fn()) {
  render(
    <VirtualList
      items={items}
      rowHeight={50}
      initialHeight={500}
      overscan={5}
      label="Vault items"
      getKey={(i) => i.id}
      renderRow={(i) => <a href={`/vault/${i.id}`}>{i.title}</a>}
      onEndReached={onEndReached}
    />,
  );
  return { onEndReached, scroller: screen.getByTestId('virtual-scroller') };
}

describe('<VirtualList>', () => {
  it('renders only a window of 10,000 items, sized for the whole list', () => {
    setup();
    const rows = screen.getAllByRole('listitem');
    expect(rows.length).toBeLessThanOrEqual(10 + 2 * 5);
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(screen.getByText('Item 0')).toBeTruthy();
    expect(screen.queryByText('Item 500')).toBeNull();
    expect(screen.getByRole('list', { name: 'Vault items' }).style.height).toBe(`${10_000 * 50}px`);
    expect(rows[0]!.getAttribute('aria-setsize')).toBe('10000');
  });

  it('moves the window when scrolled and keeps the DOM small', () => {
    const { scroller, onEndReached } = setup();
    scroller.scrollTop = 250_000;
    fireEvent.scroll(scroller);
    expect(screen.getByText('Item 5000')).toBeTruthy();
    expect(screen.queryByText('Item 0')).toBeNull();
    expect(screen.getAllByRole('listitem').length).toBeLessThanOrEqual(20);
    expect(onEndReached).not.toHaveBeenCalled();

    scroller.scrollTop = 10_000 * 50 - 500;
    fireEvent.scroll(scroller);
    expect(screen.getByText('Item 9999')).toBeTruthy();
    expect(onEndReached).toHaveBeenCalled();
  });

  it('positions each row absolutely at index × rowHeight', () => {
    const { scroller } = setup();
    scroller.scrollTop = 1000;
    fireEvent.scroll(scroller);
    const row = screen.getByText('Item 20').closest('[role="listitem"]') as HTMLElement;
    expect(row.style.top).toBe('1000px');
    expect(row.getAttribute('aria-posinset')).toBe('21');
  });
});
