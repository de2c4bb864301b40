import { render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import PdfViewer from './PdfViewer';

const PASSWORD_PROTECTED = 'This PDF is password-protected; download it to open it with its password.';

const failure = vi.hoisted(() => ({ error: null as unknown }));
vi.mock('pdfjs-dist', () => ({ GlobalWorkerOptions: {}, getDocument: () => ({ promise: Promise.reject(failure.error) }) }));
vi.mock('pdfjs-dist/build/pdf.worker.min.mjs?url', () => ({ default: '/worker.js' }));

/** What pdf.js rejects with (its exceptions carry their class name in `name`). */
const pdfjsError = (name: string, message: string) => Object.assign(new Error(message), { name });

beforeEach(() => {
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => new Response(new Uint8Array([37, 80, 68, 70]), { status: 200, headers: { 'content-type': 'application/pdf' } })),
  );
});
afterEach(() => vi.unstubAllGlobals());

describe('<PdfViewer> when the PDF cannot be shown', () => {
  it('says in words that a PDF is password-protected, not pdf.js\'s "No password given"', async () => {
    failure.error = pdfjsError('PasswordException', 'No password given');
    const { container } = render(<PdfViewer url="/api/files/f1" title="locked.pdf" />);
    expect(await screen.findByText(PASSWORD_PROTECTED)).toBeTruthy();
    expect(container.textContent).not.toContain('No password given');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('still shows any other failure as an error', async () => {
    failure.error = pdfjsError('InvalidPDFException', 'Invalid PDF structure.');
    render(<PdfViewer url="/api/files/f2" title="broken.pdf" />);
    expect(await screen.findByText(/Invalid PDF structure/)).toBeTruthy();
    expect(screen.queryByText(PASSWORD_PROTECTED)).toBeNull();
  });
});
