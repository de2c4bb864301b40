import { render } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { usePageTitle } from './usePageTitle';

function Page({ name }: { name: string }) {
  usePageTitle(name);
  return null;
}

describe('usePageTitle', () => {
  it('names the page in the window title while it is shown, and gives the app’s name back after', () => {
    document.title = 'Context Vault';
    const { rerender, unmount } = render(<Page name="Health" />);
    expect(document.title).toBe('Health · Context Vault');
    rerender(<Page name="Settings" />);
    expect(document.title).toBe('Settings · Context Vault');
    unmount();
    expect(document.title).toBe('Context Vault');
  });

  it('gives the next page its own title when one page replaces another', () => {
    const { rerender } = render(<Page key="a" name="Vault" />);
    rerender(<Page key="b" name="Chat" />);
    expect(document.title).toBe('Chat · Context Vault');
  });
});
