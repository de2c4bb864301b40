import { isInaccessible } from '@testing-library/dom';
import { fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { VaultPage } from './VaultPage';
import { forgetVaultWords } from './vaultLocation';

const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function renderVault() {
  forgetVaultWords();
  window.history.replaceState(null, '', '/vault');
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      if (url.startsWith('/api/items')) return reply(200, { items: [], nextCursor: null });
      if (url.startsWith('/api/folders')) return reply(200, { folders: [] });
      if (url.startsWith('/api/files/limit') || url.startsWith('/api/config')) return reply(404, {});
      return reply(200, { tags: [] });
    }),
  );
  return render(
    <RouterProvider>
      <VaultPage />
    </RouterProvider>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('the vault’s file inputs', () => {
  it('are out of the tab order and the accessibility tree: only the visible Upload button is a control', () => {
    const { container } = renderVault();
    const inputs = [...container.querySelectorAll<HTMLInputElement>('input[type="file"]')];
    expect(inputs).toHaveLength(2);
    for (const input of inputs) expect(isInaccessible(input)).toBe(true);
    expect(screen.getAllByRole('button', { name: /upload/i })).toHaveLength(1);
  });

  it('the Upload button opens the chooser and keeps focus itself', () => {
    renderVault();
    const click = vi.spyOn(HTMLInputElement.prototype, 'click').mockImplementation(() => undefined);
    const upload = screen.getByRole('button', { name: 'Upload' });
    upload.focus();
    fireEvent.click(upload);
    expect(click).toHaveBeenCalledTimes(1);
    expect((click.mock.contexts[0] as HTMLInputElement).id).toBe('vault-upload');
    expect(document.activeElement).toBe(upload);
  });
});

describe('the All items / Trash tabs', () => {
  it('mark the shown one selected (what the forced-colours style keys on)', () => {
    renderVault();
    const [items, trash] = screen.getAllByRole('tab');
    expect([items!.getAttribute('aria-selected'), trash!.getAttribute('aria-selected')]).toEqual(['true', 'false']);
    fireEvent.click(trash!);
    expect([items!.getAttribute('aria-selected'), trash!.getAttribute('aria-selected')]).toEqual(['false', 'true']);
  });
});
