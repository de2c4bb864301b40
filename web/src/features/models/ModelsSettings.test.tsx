import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModelsSettings } from './ModelsSettings';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const LIST = {
  models: [
    {
      name: 'llama3.1:70b',
      size: 42_520_395_584,
      family: 'llama',
      quantization: 'Q4_K_M',
      contextLength: 131072,
      fits: false,
      requiredBytes: 45_204_750_336,
      kind: 'chat',
    },
    {
      name: 'llama3.1:8b',
      size: 4_920_753_328,
      family: 'llama',
      quantization: 'Q4_K_M',
      contextLength: 131072,
      fits: true,
      requiredBytes: 5_994_495_152,
      kind: 'chat',
    },
    {
      name: 'nomic-embed-text:latest',
      size: 274_290_656,
      family: 'nomic-bert',
      quantization: 'F16',
      contextLength: 2048,
      fits: true,
      requiredBytes: 274_290_656,
      kind: 'embedding',
    },
  ],
  defaults: { chat: 'llama3.1:8b', embed: 'nomic-embed-text:latest' },
  canManage: false,
  limits: { memoryMb: 8192, gpus: false, numCtx: 8192 },
};

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('<ModelsSettings>', () => {
  it('shows every account the models with their metadata and says plainly which will not fit; only admins get controls', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, LIST)),
    );
    render(<ModelsSettings />);
    const rows = await screen.findAllByTestId('model-row');
    expect(rows.map((r) => r.getAttribute('data-model'))).toEqual(['llama3.1:70b', 'llama3.1:8b', 'nomic-embed-text:latest']);
    expect(rows[1]!.textContent).toContain('4.9 GB · llama · Q4_K_M · 128K tokens context');
    expect(rows[2]!.textContent).toContain('274 MB · embedding model · nomic-bert');
    expect(screen.getByTestId('model-no-fit').textContent).toBe(
      'Will not fit: it needs about 42.1 GiB with a 8K tokens context, and each sandbox has 8.0 GiB (SANDBOX_MEMORY_MB).',
    );
    expect(screen.queryByRole('button', { name: /Delete model/ })).toBeNull();
    expect(screen.queryByLabelText('Pull a model by name')).toBeNull();
    expect(screen.getByText('Only an admin account can add or remove models.')).toBeTruthy();
  });

  it('lets an admin change the default chat model, offering chat models for it and embedding models for the other', async () => {
    const calls: Array<{ url: string; method: string; body?: string }> = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        calls.push({ url, method: init?.method ?? 'GET', body: init?.body as string | undefined });
        if (init?.method === 'PUT') return json(200, { chat: 'llama3.1:70b', embed: 'nomic-embed-text' });
        return json(200, { ...LIST, canManage: true });
      }),
    );
    render(<ModelsSettings />);
    const options = (label: string) => Array.from((screen.getByLabelText(label) as HTMLSelectElement).options).map((o) => o.value);
    await screen.findByLabelText('Default chat model');
    expect(options('Default chat model')).toEqual(['llama3.1:70b', 'llama3.1:8b']);
    expect(options('Default embedding model')).toEqual(['nomic-embed-text:latest']);
    fireEvent.change(screen.getByLabelText('Default chat model'), { target: { value: 'llama3.1:70b' } });
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.url).toBe('/api/models/defaults');
    expect(JSON.parse(put.body!)).toEqual({ chat: 'llama3.1:70b' });
  });

  it('shows a default named without its tag as the listed model it is, not as "not pulled"', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, { ...LIST, canManage: true, defaults: { chat: 'llama3.1:8b', embed: 'nomic-embed-text' } })),
    );
    render(<ModelsSettings />);
    const select = (await screen.findByLabelText('Default embedding model')) as HTMLSelectElement;
    expect(Array.from(select.options).map((o) => o.textContent)).toEqual(['nomic-embed-text:latest']);
    expect(select.value).toBe('nomic-embed-text:latest');
  });
});
