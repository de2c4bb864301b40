import { render } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Marked } from './Marked';

describe('Marked', () => {
  it('renders the marked words as highlights and the rest as text', () => {
    const { container } = render(<Marked text="The **thyroid** **ultrasound** showed a nodule" />);
    expect([...container.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['thyroid', 'ultrasound']);
    expect(container.textContent).toBe('The thyroid ultrasound showed a nodule');
  });

  it('never injects HTML from the snippet', () => {
    const { container } = render(<Marked text={'<img src=x onerror="alert(1)"> **<b>bold</b>**'} />);
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('b')).toBeNull();
    expect(container.querySelector('mark')!.textContent).toBe('<b>bold</b>');
  });

  it('shows an unpaired mark as text', () => {
    const { container } = render(<Marked text="a ** b" />);
    expect(container.querySelector('mark')).toBeNull();
    expect(container.textContent).toBe('a  b');
  });
});
