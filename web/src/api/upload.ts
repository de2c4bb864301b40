import { api, ApiError } from './client';
import type { Limits } from './types';

let limits: Promise<Limits | null> | null = null;

/**
 * The server's size limits, asked once: a file over one is refused here, before it is sent,
 * instead of after minutes of uploading. Null when the server could not say (the server still
 * refuses, with the limit in its message).
 */
function serverLimits(): Promise<Limits | null> {
  limits ??= api.get<Limits>('/api/limits').then(
    (r) => r,
    () => {
      limits = null;
      return null;
    },
  );
  return limits;
}

/** The largest file upload (`/api/files`). */
export async function uploadLimit(): Promise<number | null> {
  return (await serverLimits())?.maxUploadBytes ?? null;
}

/** The largest health import: a FHIR JSON document is parsed whole and has a lower bound than NDJSON or an archive. */
export async function importLimit(what: 'fhir-json' | 'other'): Promise<number | null> {
  const l = await serverLimits();
  if (!l) return null;
  // A server from before these fields answers the upload limit only.
  return (what === 'fhir-json' ? l.maxFhirJsonBytes : l.maxImportBytes) ?? null;
}

/** For tests: ask the server again. */
export function forgetUploadLimit(): void {
  limits = null;
}

export function tooLargeMessage(maxBytes: number): string {
  return `This file is larger than this server accepts (${Math.floor(maxBytes / (1024 * 1024))} MB at most).`;
}

export interface UploadHandle<T> {
  promise: Promise<{ status: number; body: T }>;
  abort: () => void;
}

function parseError(xhr: XMLHttpRequest): ApiError {
  let code = `http_${xhr.status}`;
  let message = xhr.status === 413 ? 'That file is too large.' : xhr.status === 415 ? 'That type of file is not supported.' : `Upload failed (${xhr.status}).`;
  try {
    const body = JSON.parse(xhr.responseText) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    /* keep the generic sentence */
  }
  return new ApiError(xhr.status, code, message);
}

/**
 * Multipart upload through XMLHttpRequest, because fetch still cannot report upload progress.
 * `onProgress` receives a fraction in [0, 1].
 */
export function uploadFile<T>(url: string, file: File, onProgress: (fraction: number) => void, fields: Record<string, string> = {}): UploadHandle<T> {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<{ status: number; body: T }>((resolve, reject) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', file, file.name);
    xhr.open('POST', url);
    xhr.responseType = 'text';
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        let body: T;
        try {
          body = (xhr.responseText ? JSON.parse(xhr.responseText) : undefined) as T;
        } catch {
          body = undefined as T;
        }
        resolve({ status: xhr.status, body });
      } else {
        reject(parseError(xhr));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'The upload was interrupted. Check your connection and try again.'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'Upload cancelled.'));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
