import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, streamEvents } from '../../api/client';
import type { AnswerAlternative, AnswerContext, ChatThread, Source } from '../../api/types';

export interface UiMessage {
  key: string;
  role: 'user' | 'assistant';
  text: string;
  sources: Source[];
  status?: 'streaming' | 'stopped' | 'error' | 'done';
  error?: string;
  context?: AnswerContext;
  /** Earlier answers to the same question (Regenerate keeps them), oldest first. */
  alternatives?: AnswerAlternative[];
  /** The answer reached the length limit and ends there. */
  cutOff?: boolean;
}

/** Why the AI is offline, as `/health/ollama` or a chat error says it (`no_model`, `image_missing`, ...). */
export interface AiReason {
  code: string;
  message: string;
}

let seq = 0;
const key = () => `m${++seq}`;

export function useAiStatus(pollMs = 30_000) {
  const [offline, setOfflineState] = useState(false);
  const [reason, setReason] = useState<AiReason | null>(null);
  /** How the server runs its model (`docker`, `url`), or `none` when no runtime is configured at all. */
  const [runtime, setRuntime] = useState<string | null>(null);
  const setOffline = useCallback((value: boolean, why?: AiReason | null) => {
    setOfflineState(value);
    setReason(value ? (why ?? null) : null);
  }, []);
  const check = useCallback(async () => {
    try {
      const r = await api.get<{ status: string; runtime?: string; code?: string; message?: string }>('/health/ollama', { quiet401: true });
      setRuntime(r.runtime ?? null);
      setOffline(r.status !== 'ok', r.code && r.message ? { code: r.code, message: r.message } : null);
    } catch {
      setOffline(true);
    }
  }, [setOffline]);
  useEffect(() => {
    void check();
    const t = setInterval(check, pollMs);
    return () => clearInterval(t);
  }, [check, pollMs]);
  // No runtime configured: waiting will not help, only whoever runs the server can set one up.
  return { offline, reason, setOffline, check, notSetUp: offline && runtime === 'none' };
}

/** The longest question the server takes (its /api/chat schema). */
export const MAX_MESSAGE = 4000;

/** Codes that mean the server itself lacks something, for its operator to fix. */
const OPERATOR_CODES = new Set(['ai_offline', 'no_model', 'image_missing', 'model_pulling']);

export function useChat(chatId: string | null, opts: { onSaved: (chatId: string) => void; onOffline: (why?: AiReason) => void }) {
  const [messages, setMessages] = useState<UiMessage[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [streaming, setStreaming] = useState(false);
  /** The model picked for this chat (null = the server default). */
  const [model, setModel] = useState<string | null>(null);
  const modelRef = useRef<string | null>(null);
  modelRef.current = model;
  const current = useRef<string | null>(null);
  const ctl = useRef<AbortController | null>(null);
  const optsRef = useRef(opts);
  optsRef.current = opts;

  // Set when a stream saves a new conversation: the URL then changes to /chat/:id, and the
  // messages already on screen are that conversation, so it is not fetched again.
  const justSaved = useRef<string | null>(null);

  useEffect(() => {
    if (chatId && justSaved.current === chatId) {
      justSaved.current = null;
      current.current = chatId;
      return;
    }
    ctl.current?.abort();
    current.current = chatId;
    setError(null);
    if (!chatId) {
      setMessages([]);
      setModel(null);
      setLoading(false);
      return;
    }
    setLoading(true);
    setMessages([]);
    let live = true;
    api
      .get<ChatThread>(`/api/chats/${encodeURIComponent(chatId)}`)
      .then((t) => {
        if (live) {
          setModel(t.model ?? null);
          setMessages(
            t.messages.map((m) => ({
              key: key(),
              role: m.role,
              text: m.text,
              sources: m.sources ?? [],
              status: m.stopped ? 'stopped' : 'done',
              context: m.context,
              alternatives: m.alternatives,
              ...(m.cutOff ? { cutOff: true } : {}),
            })),
          );
        }
      })
      .catch((e) => live && setError(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [chatId]);

  const patchLast = (fn: (m: UiMessage) => UiMessage) =>
    setMessages((prev) => {
      const i = prev.length - 1;
      if (i < 0 || prev[i]!.role !== 'assistant') return prev;
      const next = prev.slice();
      next[i] = fn(prev[i]!);
      return next;
    });

  /**
   * Streams one answer from `path` into the last (assistant) message. With `onRejected`, a request
   * the server turned down before answering (nothing of it was saved) goes there instead.
   */
  const stream = useCallback(async (path: string, body: unknown, c: AbortController, onRejected?: (e: ApiError) => void) => {
    let answered = false;
    try {
      for await (const ev of streamEvents(path, body, c.signal)) {
        answered = true;
        let data: Record<string, unknown> = {};
        try {
          data = JSON.parse(ev.data) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (ev.event === 'sources') patchLast((m) => ({ ...m, sources: (data.sources as Source[]) ?? [], context: data.context as AnswerContext | undefined }));
        else if (ev.event === 'token') patchLast((m) => ({ ...m, text: m.text + String(data.text ?? '') }));
        else if (ev.event === 'done') {
          patchLast((m) => ({ ...m, status: 'done', ...(data.cutOff === true ? { cutOff: true } : {}) }));
          const id = typeof data.chatId === 'string' ? data.chatId : null;
          if (id) {
            if (current.current !== id) justSaved.current = id;
            current.current = id;
            optsRef.current.onSaved(id);
          }
        } else if (ev.event === 'error') {
          const msg = typeof data.message === 'string' ? data.message : 'The assistant stopped with an error.';
          patchLast((m) => ({ ...m, status: 'error', error: msg }));
          if (data.code === 'ai_offline') optsRef.current.onOffline();
        }
      }
      patchLast((m) => (m.status === 'streaming' ? { ...m, status: 'done' } : m));
    } catch (e) {
      if (c.signal.aborted || (e as { name?: string }).name === 'AbortError') {
        patchLast((m) => ({ ...m, status: 'stopped' }));
      } else if (!answered && onRejected && e instanceof ApiError) {
        if (OPERATOR_CODES.has(e.code) || e.status === 503)
          optsRef.current.onOffline(e.code && e.code !== 'ai_offline' ? { code: e.code, message: e.message } : undefined);
        onRejected(e);
      } else if (e instanceof ApiError && (OPERATOR_CODES.has(e.code ?? '') || e.status === 503)) {
        optsRef.current.onOffline(e.code && e.code !== 'ai_offline' ? { code: e.code, message: e.message } : undefined);
        patchLast((m) => ({ ...m, status: 'error', error: e.message }));
      } else {
        patchLast((m) => ({ ...m, status: 'error', error: e instanceof Error ? e.message : 'Something went wrong.' }));
      }
    } finally {
      if (ctl.current === c) ctl.current = null;
      setStreaming(false);
    }
  }, []);

  /**
   * Asks `message`. Resolves to false when it was not sent (the server refused it or could not be
   * reached): its bubbles are taken away again and `error` says why, so the caller can give the text back.
   */
  const send = useCallback(
    async (message: string): Promise<boolean> => {
      const text = message.trim();
      if (!text || ctl.current) return false;
      const c = new AbortController();
      ctl.current = c;
      setError(null);
      setStreaming(true);
      setMessages((prev) => [
        ...prev,
        { key: key(), role: 'user', text, sources: [] },
        { key: key(), role: 'assistant', text: '', sources: [], status: 'streaming' },
      ]);
      const body: { message: string; chatId?: string; model?: string } = { message: text };
      if (current.current) body.chatId = current.current;
      if (modelRef.current) body.model = modelRef.current;
      let sent = true;
      await stream('/api/chat', body, c, (e) => {
        sent = false;
        setMessages((prev) => prev.slice(0, -2));
        setError(e.status === 400 ? new Error(`That message could not be sent. Messages can be up to ${MAX_MESSAGE.toLocaleString()} characters.`) : e);
      });
      return sent;
    },
    [stream],
  );

  /** A new answer to the last question; the one on screen moves to "earlier answers". */
  const regenerate = useCallback(async () => {
    const id = current.current;
    if (!id || ctl.current) return;
    const c = new AbortController();
    ctl.current = c;
    setError(null);
    setStreaming(true);
    patchLast((m) => ({
      ...m,
      alternatives:
        m.status === 'done' || m.status === 'stopped'
          ? [...(m.alternatives ?? []), { text: m.text, sources: m.sources, createdAt: new Date().toISOString(), context: m.context }]
          : m.alternatives,
      text: '',
      sources: [],
      context: undefined,
      error: undefined,
      status: 'streaming',
    }));
    await stream(`/api/chats/${encodeURIComponent(id)}/regenerate`, {}, c);
  }, [stream]);

  const stop = useCallback(() => {
    ctl.current?.abort();
  }, []);

  useEffect(() => () => ctl.current?.abort(), []);

  return { messages, loading, error, streaming, send, stop, regenerate, model, setModel };
}
