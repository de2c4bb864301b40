import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ChatHeader } from './AnswerTools';

describe('<ChatHeader> rename mode', () => {
  it('keeps the page’s h1 while the title is being edited, with the box inside it', () => {
    render(<ChatHeader chatId="c1" title="Blood pressure questions" onRenamed={() => undefined} />);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Blood pressure questions');
    fireEvent.click(screen.getByRole('button', { name: 'Rename' }));

    const box = screen.getByRole('textbox', { name: 'Chat title' }) as HTMLInputElement;
    expect(document.activeElement).toBe(box);
    expect(box.value).toBe('Blood pressure questions');
    const heading = screen.getByRole('heading', { level: 1 });
    expect(heading.contains(box)).toBe(true);
    // The buttons stay outside: a heading names the page, it does not hold its controls.
    expect(heading.contains(screen.getByRole('button', { name: 'Save title' }))).toBe(false);

    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Blood pressure questions');
  });
});
