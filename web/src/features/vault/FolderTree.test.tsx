import { fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { FolderTree } from './FolderTree';
import type { FoldersApi } from './useFolders';

function fakeApi(): FoldersApi {
  return {
    folders: [],
    error: null,
    reload: vi.fn(),
    trail: () => [],
    pathOf: () => '',
    create: vi.fn(async () => undefined),
    rename: vi.fn(async () => undefined),
    remove: vi.fn(async () => undefined),
    moveItem: vi.fn(async () => undefined),
  } as unknown as FoldersApi;
}

describe('<FolderTree> name dialog', () => {
  it('says why a blank name is not taken, instead of doing nothing', async () => {
    const api = fakeApi();
    render(<FolderTree api={api} selected={null} onSelect={() => undefined} onMoved={() => undefined} />);
    fireEvent.click(screen.getByRole('button', { name: 'New folder' }));
    const dialog = await screen.findByRole('dialog');
    const field = within(dialog).getByLabelText('Folder name');
    fireEvent.change(field, { target: { value: '   ' } });
    fireEvent.submit(field.closest('form')!);
    expect(await within(dialog).findByText(/cannot be blank/)).toBeTruthy();
    expect(field.getAttribute('aria-invalid')).toBe('true');
    expect(api.create).not.toHaveBeenCalled();

    fireEvent.change(field, { target: { value: 'Labs' } });
    expect(within(dialog).queryByText(/cannot be blank/)).toBeNull();
    fireEvent.submit(field.closest('form')!);
    await vi.waitFor(() => expect(api.create).toHaveBeenCalledWith('Labs', null));
  });

  it("shows the server's refusal on the name field, in the dialog that stays open", async () => {
    const api = fakeApi();
    const { rerender } = render(<FolderTree api={api} selected={null} onSelect={() => undefined} onMoved={() => undefined} />);
    fireEvent.click(screen.getByRole('button', { name: 'New folder' }));
    const dialog = await screen.findByRole('dialog');
    const field = within(dialog).getByLabelText('Folder name');
    fireEvent.change(field, { target: { value: 'Labs' } });
    fireEvent.submit(field.closest('form')!);
    await vi.waitFor(() => expect(api.create).toHaveBeenCalledWith('Labs', null));
    const refused = { ...api, error: new Error('A folder named "Labs" already exists here.') } as FoldersApi;
    rerender(<FolderTree api={refused} selected={null} onSelect={() => undefined} onMoved={() => undefined} />);
    expect(await within(screen.getByRole('dialog')).findByText('A folder named "Labs" already exists here.')).toBeTruthy();
    expect(within(screen.getByRole('dialog')).getByLabelText('Folder name').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getAllByText('A folder named "Labs" already exists here.')).toHaveLength(1);
  });
});
