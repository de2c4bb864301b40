import { useCallback, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { api } from '../../api/client';
import type { ChatList, ChatSummary, Source } from '../../api/types';
import { Link, useLeaveWarning, useQueryParam, useRouter } from '../../app/router';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { ErrorText } from '../../components/ui/Feedback';
import { formatDate } from '../../components/format';
import { UserText } from '../../components/UserText';
import { usePageTitle } from '../../components/usePageTitle';
import { AnswerActions, ChatHeader } from './AnswerTools';
import { ModelPicker } from '../models/ModelPicker';
import { Markdown } from './Markdown';
import { MAX_MESSAGE, useAiStatus, useChat, type AiReason, type UiMessage } from './useChat';

export function SourceChips({ sources }: { sources: Source[] }) {
  if (!sources.length) return null;
  return (
    <div className="mt-3" aria-label="Sources" role="group">
      <p className="mb-1.5 text-xs font-medium uppercase tracking-wide text-stone-500">Sources</p>
      <ul className="flex flex-wrap gap-1.5">
        {sources.map((s) => (
          <li key={`${s.n}-${s.itemId}`}>
            {s.itemId === null ? (
              <span className="inline-flex max-w-64 items-center gap-1.5 rounded-full border border-stone-200 bg-stone-50 py-1 pl-1.5 pr-3 text-xs text-stone-700">
                <span className="flex h-5 min-w-5 items-center justify-center rounded-full bg-teal-700 px-1 text-[0.7rem] font-semibold text-white">{s.n}</span>
                <UserText className="truncate">{s.title}</UserText>
              </span>
            ) : (
              <Link
                to={`/vault/${s.itemId}`}
                data-testid="source-chip"
                className="inline-flex max-w-64 items-center gap-1.5 rounded-full border border-stone-200 bg-stone-50 py-1 pl-1.5 pr-3 text-xs text-stone-700 hover:border-teal-300 hover:bg-teal-50 focus-visible:outline-2 focus-visible:outline-teal-600"
                title={s.occurredAt ? `${s.title} · ${formatDate(s.occurredAt)}` : s.title}
              >
                <span className="flex h-5 min-w-5 items-center justify-center rounded-full bg-teal-700 px-1 text-[0.7rem] font-semibold text-white">{s.n}</span>
                <UserText className="truncate">{s.title || 'Untitled'}</UserText>
              </Link>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

function MessageView({ m, onRegenerate }: { m: UiMessage; onRegenerate?: () => void }) {
  if (m.role === 'user') {
    return (
      <div className="flex justify-end">
        <div
          className="max-w-[85%] whitespace-pre-wrap break-words rounded-2xl rounded-br-md bg-teal-700 px-4 py-2.5 text-[0.95rem] text-white"
          data-testid="user-message"
        >
          {m.text}
        </div>
      </div>
    );
  }
  return (
    <div className="flex gap-3" data-testid="assistant-message" aria-busy={m.status === 'streaming'}>
      <div className="mt-1 flex h-7 w-7 shrink-0 items-center justify-center rounded-full bg-stone-200 text-xs font-semibold text-stone-700" aria-hidden="true">
        AI
      </div>
      <div className="min-w-0 flex-1 rounded-2xl rounded-tl-md border border-stone-200 bg-white px-4 py-3 shadow-sm">
        {m.text ? (
          <Markdown text={m.text} sources={m.sources} />
        ) : m.status === 'streaming' ? (
          <p className="text-sm text-stone-500">
            <span className="inline-flex gap-1" aria-label="Thinking">
              <span className="h-1.5 w-1.5 animate-bounce rounded-full bg-stone-400" />
              <span className="h-1.5 w-1.5 animate-bounce rounded-full bg-stone-400 [animation-delay:120ms]" />
              <span className="h-1.5 w-1.5 animate-bounce rounded-full bg-stone-400 [animation-delay:240ms]" />
            </span>{' '}
            Reading your vault…
          </p>
        ) : null}
        {m.status === 'stopped' && <p className="mt-2 text-xs italic text-stone-500">Stopped.</p>}
        {m.cutOff && <p className="mt-2 text-xs italic text-stone-500">Cut off: the answer reached its length limit.</p>}
        {/* Not role="alert": it is added inside the polite message list, which already announces it; an
            alert there is read twice (once assertive, once as the list's addition). */}
        {m.status === 'error' && <p className={`text-sm text-red-700 ${m.text ? 'mt-2' : ''}`}>{m.error}</p>}
        <SourceChips sources={m.sources} />
        <AnswerActions m={m} onRegenerate={onRegenerate} />
      </div>
    </div>
  );
}

const REASON_TITLES: Record<string, string> = { no_model: 'No model pulled', image_missing: 'AI image missing', model_pulling: 'Model download in progress' };

export function OfflineBanner({ reason, notSetUp = false }: { reason?: AiReason | null; notSetUp?: boolean }) {
  const title = notSetUp ? 'AI not set up on this server' : ((reason && REASON_TITLES[reason.code]) ?? 'AI offline');
  return (
    <div
      role="status"
      className="mb-4 flex items-start gap-3 rounded-xl border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-950"
      data-testid="ai-offline"
    >
      <svg viewBox="0 0 20 20" className="mt-0.5 h-5 w-5 shrink-0" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="1.6">
        <path d="M10 3l8 14H2z" />
        <path d="M10 8v4M10 14.5v.5" />
      </svg>
      <div>
        <p className="font-semibold">{title}</p>
        {notSetUp ? (
          <p>
            This server has no AI model runtime configured, so the assistant cannot answer; waiting will not change that. An administrator can set one up
            (SANDBOX_RUNTIME or OLLAMA_URL). Your vault, search and health data keep working.
          </p>
        ) : reason && REASON_TITLES[reason.code] ? (
          <>
            <p>The assistant cannot answer until whoever runs this server fixes this. Your vault, search and health data keep working.</p>
            <p className="mt-1 font-mono text-xs">{reason.message}</p>
          </>
        ) : (
          <p>The assistant cannot be reached right now. Your vault, search and health data keep working; try chatting again later.</p>
        )}
      </div>
    </div>
  );
}

export function ChatPage({ chatId }: { chatId: string | null }) {
  // "Chat", never the conversation's title: see usePageTitle on vault content in window titles.
  usePageTitle('Chat');
  const { navigate } = useRouter();
  const ai = useAiStatus();
  const [chats, setChats] = useState<ChatSummary[] | null>(null);
  // The next page's cursor: older chats than those listed exist while it is set.
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  // Bumped by each reload of the first page, so an older page asked for before it is dropped
  // rather than appended after a list it no longer continues.
  const listGeneration = useRef(0);
  // Whether a first page has been listed: later reloads keep what was paged in below it.
  const listed = useRef(false);
  const [draft, setDraft] = useState('');
  const bottom = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  const loadChats = useCallback(() => {
    const generation = ++listGeneration.current;
    api
      .get<ChatList>('/api/chats')
      .then((r) => {
        if (generation !== listGeneration.current) return;
        if (!listed.current) {
          listed.current = true;
          setChats(r.chats);
          setNextCursor(r.nextCursor ?? null);
          return;
        }
        // A reload after an answer: the first page anew, and the older chats already shown stay
        // below it (the cursor still continues them), so the list does not jump back to its top.
        const fresh = new Set(r.chats.map((c) => c.id));
        setChats((cs) => [...r.chats, ...(cs ?? []).filter((c) => !fresh.has(c.id))]);
      })
      .catch(() => setChats((c) => c ?? []));
  }, []);
  useEffect(loadChats, [loadChats]);

  const loadOlder = () => {
    if (!nextCursor || loadingOlder) return;
    const generation = listGeneration.current;
    setLoadingOlder(true);
    api
      .get<ChatList>(`/api/chats?cursor=${encodeURIComponent(nextCursor)}`)
      .then((r) => {
        if (generation !== listGeneration.current) return;
        // A chat deleted or updated meanwhile can shift a page; never list one twice.
        setChats((cs) => {
          const seen = new Set(cs?.map((c) => c.id));
          return [...(cs ?? []), ...r.chats.filter((c) => !seen.has(c.id))];
        });
        setNextCursor(r.nextCursor ?? null);
      })
      .catch(() => {
        /* the button stays, to try again */
      })
      .finally(() => setLoadingOlder(false));
  };

  const chat = useChat(chatId, {
    onSaved: (id) => {
      loadChats();
      if (id !== chatId) navigate(`/chat/${id}`, { replace: true });
    },
    onOffline: (why) => ai.setOffline(true, why ?? ai.reason),
  });

  // Shortcuts: C opens a new chat with the cursor in the message box; Esc stops an answer.
  const intent = useQueryParam('intent');
  useEffect(() => {
    if (intent !== 'new-chat') return;
    input.current?.focus();
    navigate('/chat', { replace: true });
  }, [intent, navigate]);
  const { streaming, stop } = chat;
  useEffect(() => {
    if (!streaming) return;
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key === 'Escape' && !document.querySelector('[role="dialog"]')) {
        e.preventDefault();
        stop();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [streaming, stop]);

  const last = chat.messages.at(-1);
  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: 'end' });
  }, [chat.messages.length, last?.text.length]);

  // Leaving stops the answer (the server stops generating when the stream closes).
  useLeaveWarning(chat.streaming ? 'An answer is still being written. If you leave now, it stops where it is.' : null);

  const length = draft.trim().length;
  const tooLong = length > MAX_MESSAGE;

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (!draft.trim() || tooLong || chat.streaming || ai.notSetUp) return;
    const text = draft;
    setDraft('');
    void chat.send(text).then((sent) => {
      // Not sent: give the words back, unless something new was typed meanwhile.
      if (!sent) setDraft((d) => d || text);
    });
  };

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  // Which of the page's headings shows: the empty state's, or a saved chat's title.
  const empty = chat.messages.length === 0 && !chat.loading;
  const titled = Boolean(chatId && chat.messages.length > 0);

  const [deleting, setDeleting] = useState<ChatSummary | null>(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const remove = async (id: string) => {
    setDeleteBusy(true);
    setDeleteError(null);
    try {
      await api.del(`/api/chats/${id}`);
      setChats((c) => c?.filter((x) => x.id !== id) ?? null);
      setDeleting(null);
      if (id === chatId) navigate('/chat', { replace: true });
    } catch (e) {
      setDeleteError(e);
    } finally {
      setDeleteBusy(false);
    }
  };

  return (
    // minmax(0,1fr): a long chat title must truncate inside the column, not widen the page.
    <div className="grid grid-cols-[minmax(0,1fr)] gap-6 md:grid-cols-[15rem_minmax(0,1fr)]">
      <aside aria-label="Conversations" className="min-w-0 md:sticky md:top-20 md:self-start">
        <Button
          variant="secondary"
          className="mb-3 w-full"
          onClick={() => {
            navigate('/chat');
            input.current?.focus();
          }}
        >
          New chat
        </Button>
        {chats && chats.length === 0 && <p className="px-2 text-xs text-stone-500">Your conversations will appear here.</p>}
        <ul className="space-y-0.5">
          {chats?.map((c) => (
            <li key={c.id} className="group flex items-center">
              <Link
                to={`/chat/${c.id}`}
                aria-current={c.id === chatId ? 'page' : undefined}
                className={`min-w-0 flex-1 rounded-md px-2 py-1.5 text-sm focus-visible:outline-2 focus-visible:outline-teal-600 ${c.id === chatId ? 'bg-teal-50 font-medium text-teal-900' : 'text-stone-700 hover:bg-stone-100'}`}
              >
                <UserText className="block truncate">{c.title || 'Untitled chat'}</UserText>
                <span className="block text-[0.7rem] text-stone-500">{formatDate(c.updatedAt)}</span>
              </Link>
              <button
                type="button"
                onClick={() => {
                  setDeleteError(null);
                  setDeleting(c);
                }}
                aria-label={`Delete conversation ${c.title || ''}`.trim()}
                title="Delete conversation"
                // Hidden until hover only where there is hover: touch screens always show it.
                className="ml-1 shrink-0 rounded p-1 text-stone-400 hover:bg-stone-100 hover:text-stone-700 [@media(hover:hover)]:opacity-0 [@media(hover:hover)]:group-hover:opacity-100 [@media(hover:hover)]:focus:opacity-100"
              >
                <svg viewBox="0 0 20 20" className="h-4 w-4" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="1.6">
                  <path d="M4 6h12M8 6V4h4v2M6 6l1 10h6l1-10" />
                </svg>
              </button>
            </li>
          ))}
        </ul>
        {nextCursor && (
          <Button variant="secondary" size="sm" className="mt-2 w-full" onClick={loadOlder} busy={loadingOlder}>
            Show older chats
          </Button>
        )}
      </aside>

      <Dialog
        open={deleting !== null}
        onOpenChange={(o) => {
          if (!o && !deleteBusy) setDeleting(null);
        }}
        title="Delete this conversation?"
        description={
          <>
            <UserText className="font-medium text-stone-800">{deleting?.title || 'Untitled chat'}</UserText> will be deleted for good. Your notes and records
            are not touched.
          </>
        }
      >
        <ErrorText error={deleteError} className="mb-3" />
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setDeleting(null)} disabled={deleteBusy}>
            Cancel
          </Button>
          <Button variant="danger" busy={deleteBusy} onClick={() => deleting && void remove(deleting.id)}>
            Delete
          </Button>
        </div>
      </Dialog>

      <section aria-label="Conversation" className="flex min-h-[calc(100vh-10rem)] min-w-0 flex-col">
        {/* The page's heading where neither the empty state's nor the saved chat's is shown (opening a
            chat, a first answer streaming or failed): heading navigation and a new page's focus need one. */}
        {!empty && !titled && <h1 className="sr-only">Chat</h1>}
        {ai.offline && <OfflineBanner reason={ai.reason} notSetUp={ai.notSetUp} />}
        <ErrorText error={chat.error} className="mb-3" />
        {chatId && titled && (
          <ChatHeader
            chatId={chatId}
            title={chats?.find((c) => c.id === chatId)?.title ?? ''}
            onRenamed={(title) => setChats((cs) => cs?.map((c) => (c.id === chatId ? { ...c, title } : c)) ?? null)}
          />
        )}
        <div className="flex-1 space-y-5" aria-live="polite" aria-relevant="additions">
          {chat.loading && (
            <p role="status" className="py-12 text-center text-sm text-stone-500">
              Opening conversation…
            </p>
          )}
          {empty && (
            <div className="mx-auto max-w-lg py-12 text-center">
              <h1 className="text-xl font-semibold text-stone-900">Ask your vault</h1>
              <p className="mt-2 text-sm text-stone-600">
                Answers come only from your own notes, documents and health records, and each one shows its sources. The model runs on your server; nothing is
                sent anywhere else.
              </p>
              <ul className="mt-6 grid gap-2 text-left text-sm sm:grid-cols-2">
                {[
                  'What was my average resting heart rate last month?',
                  'When was my last tetanus shot?',
                  'Summarise my latest blood test.',
                  'What does my insurance cover for physiotherapy?',
                ].map((s) => (
                  <li key={s}>
                    <button
                      type="button"
                      disabled={ai.notSetUp}
                      onClick={() => {
                        setDraft(s);
                        input.current?.focus();
                      }}
                      className="w-full rounded-lg border border-stone-200 bg-white px-3 py-2 text-left text-stone-700 hover:border-teal-300 hover:bg-teal-50 focus-visible:outline-2 focus-visible:outline-teal-600 disabled:cursor-not-allowed disabled:opacity-60"
                    >
                      {s}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          )}
          {chat.messages.map((m, i) => (
            <MessageView
              key={m.key}
              m={m}
              onRegenerate={m.role === 'assistant' && i === chat.messages.length - 1 && chatId && !chat.streaming ? () => void chat.regenerate() : undefined}
            />
          ))}
          <div ref={bottom} />
        </div>

        <form onSubmit={submit} className="sticky bottom-0 mt-6 border-t border-stone-200 bg-stone-50/95 pb-4 pt-4 backdrop-blur">
          <label htmlFor="chat-input" className="sr-only">
            Message
          </label>
          <div className="flex items-end gap-2 rounded-2xl border border-stone-300 bg-white p-2 shadow-sm focus-within:border-teal-600 focus-within:outline-2 focus-within:outline-teal-600">
            <textarea
              ref={input}
              id="chat-input"
              rows={2}
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              onKeyDown={onKey}
              aria-invalid={tooLong || undefined}
              aria-describedby="chat-count"
              placeholder="Ask about your documents, notes or health…"
              className="max-h-48 min-h-10 flex-1 resize-y bg-transparent px-2 py-1.5 text-[0.95rem] focus:outline-none"
            />
            {chat.streaming ? (
              <Button variant="secondary" onClick={chat.stop}>
                <span className="h-3 w-3 rounded-sm bg-stone-700" aria-hidden="true" />
                Stop
              </Button>
            ) : (
              <Button type="submit" disabled={!draft.trim() || tooLong || ai.notSetUp}>
                Send
              </Button>
            )}
          </div>
          <p id="chat-count" aria-live="polite" className={`mt-1.5 px-1 text-xs ${tooLong ? 'font-medium text-red-700' : 'text-stone-500'}`}>
            {tooLong
              ? `Too long to send: ${length.toLocaleString()} of ${MAX_MESSAGE.toLocaleString()} characters. Shorten it by ${(length - MAX_MESSAGE).toLocaleString()}.`
              : length > MAX_MESSAGE * 0.8
                ? `${length.toLocaleString()} of ${MAX_MESSAGE.toLocaleString()} characters`
                : ''}
          </p>
          <ModelPicker value={chat.model} onChange={chat.setModel} disabled={chat.streaming} />
          <p className="mt-1.5 px-1 text-xs text-stone-500">
            Enter to send · Shift+Enter for a new line · Esc to stop · ? for shortcuts. Answers can be wrong; check the sources.
          </p>
        </form>
      </section>
    </div>
  );
}

export default ChatPage;
