import { randomUUID } from 'node:crypto';
import { chat as chatCodec, chatMessage } from '../codec/index.js';
import type { Lease, SandboxPool } from '../../sandbox/pool.js';
import { ANSWER_TOKENS } from '../../sandbox/ollama.js';
import { AiOfflineError, PoolSaturatedError, PoolTimeoutError, SandboxError } from '../../sandbox/errors.js';
import { estimateMessagesTokens, truncateToTokens } from '../chat/budget.js';
import { buildPrompt, type PromptMessage } from '../chat/prompt.js';
import { parseQuestion, type ParsedQuestion } from '../chat/question.js';
import { asBuffer } from '../db/index.js';
import { AppError, notFound, unavailable } from '../errors.js';
import type { ChatsRepository } from '../repositories/chats.repository.js';
import type { SessionContext } from './keyring.js';
import type { CitedSource, RetrievalService } from './retrieval.service.js';

interface MessagePayload {
  text: string;
  sources: CitedSource[];
  stopped?: boolean;
  /** The answer reached the length limit (`done_reason: "length"`) and ends there. */
  cutOff?: boolean;
}

export interface PreparedChat {
  chatId: string;
  isNew: boolean;
  question: string;
  /** Only the sources that fit in the prompt: the ones the answer may cite. */
  sources: CitedSource[];
  messages: PromptMessage[];
  createdAt: Date;
}

const TITLE_CHARS = 80;
/** Earlier turns given to the model with a follow-up question, and their size each. */
const HISTORY_MESSAGES = 4;
const HISTORY_TOKENS_EACH = 300;
// The answer's share of num_ctx; streamChat caps the answer at the same number (num_predict).
const ANSWER_RESERVE = ANSWER_TOKENS;

/**
 * A chat turn: retrieval and prompt (no model needed), a sandbox lease, and the encrypted record
 * of the exchange. Streaming itself is the route's job.
 */
const CODECS = { chats: chatCodec, chat_messages: chatMessage } as const;

export class ChatService {
  constructor(
    private readonly chats: ChatsRepository,
    private readonly retrieval: RetrievalService,
    private readonly pool: SandboxPool | null,
    readonly opts: { model: string; numCtx: number; runtime: 'docker' | 'url' | 'none' | 'process' },
  ) {}

  #seal(session: SessionContext, table: 'chats' | 'chat_messages', id: string, value: unknown): Buffer {
    return CODECS[table].seal(session.keys, { userId: session.userId, id, version: 1 }, value);
  }

  #open<T>(session: SessionContext, table: 'chats' | 'chat_messages', row: { id: string; version: number; ciphertext: Uint8Array }): T {
    return CODECS[table].open(session.keys, { userId: session.userId, id: row.id, version: row.version }, asBuffer(row.ciphertext)) as T;
  }

  /** `/health/ollama`: ok, or offline with the pool's reason ("No model pulled: ..."). */
  async health(): Promise<{ status: 'ok' | 'offline'; runtime: 'docker' | 'url' | 'none'; code?: string; message?: string }> {
    const runtime = this.opts.runtime === 'process' ? 'docker' : this.opts.runtime;
    if (!this.pool) return { status: 'offline', runtime };
    const h = await this.pool.health();
    return h.ok ? { status: 'ok', runtime } : { status: 'offline', runtime, code: h.code, message: h.message };
  }

  async prepare(session: SessionContext, input: { message: string; chatId?: string; timeZone?: string }, now = new Date()): Promise<PreparedChat> {
    const history = input.chatId ? await this.#history(session, input.chatId) : [];
    const parsed = withTopicOf(parseQuestion(input.message, now, input.timeZone), history, now, input.timeZone);
    const found = await this.retrieval.retrieve(session, input.message, parsed, now);
    // Earlier turns ride between the rules and the sources; their size comes out of the budget.
    const turns: PromptMessage[] = history.map((m) => ({
      role: m.role === 'user' ? 'user' : 'assistant',
      // Citation numbers belonged to that turn's sources, not this one's.
      content: truncateToTokens(m.text.replace(/\[\d+\]/g, ''), HISTORY_TOKENS_EACH),
    }));
    const built = buildPrompt({
      question: input.message,
      sources: found.prompt,
      numCtx: this.opts.numCtx,
      now,
      timeZone: input.timeZone,
      reserveForAnswer: ANSWER_RESERVE + (turns.length ? estimateMessagesTokens(turns) : 0),
    });
    const used = new Set(built.used);
    return {
      chatId: input.chatId ?? randomUUID(),
      isNew: !input.chatId,
      question: input.message,
      sources: found.cited.filter((c) => used.has(c.n)),
      messages: [built.messages[0]!, ...turns, ...built.messages.slice(1)],
      createdAt: now,
    };
  }

  /** The last few messages of a chat, oldest first; 404 for a chat that is not the user's. */
  async #history(session: SessionContext, chatId: string): Promise<Array<{ role: string; text: string }>> {
    if (!(await this.chats.get(session.userId, chatId))) throw notFound('Chat');
    const rows = await this.chats.lastMessages(session.userId, chatId, HISTORY_MESSAGES);
    return rows.reverse().map((r) => ({ role: r.role, text: this.#open<MessagePayload>(session, 'chat_messages', r).text }));
  }

  /** A sandbox for this user, or the reason there is none as a 503 the browser can show. */
  async acquire(session: SessionContext, signal: AbortSignal): Promise<Lease> {
    if (!this.pool) throw unavailable('The AI is offline: no model runtime is configured on this server.', 'ai_offline');
    try {
      return await this.pool.acquire(session.userId, { signal });
    } catch (err) {
      if (err instanceof PoolSaturatedError) throw unavailable('The AI is busy. Try again in a moment.', 'pool_saturated', 5);
      if (err instanceof PoolTimeoutError) throw unavailable('The AI is busy. Try again in a moment.', 'pool_timeout', 5);
      if (err instanceof AiOfflineError) throw unavailable('The AI is offline.', 'ai_offline');
      // An operator's fix, not a retry: say exactly what is missing.
      if (err instanceof SandboxError && (err.code === 'no_model' || err.code === 'image_missing')) throw unavailable(err.message, err.code, 30);
      if (err instanceof SandboxError) throw unavailable('The AI could not be started. Try again later.', 'ai_offline', 10);
      throw err;
    }
  }

  /** Stores the question and the (possibly partial) answer, encrypted, with the cited ids. */
  async save(session: SessionContext, chat: PreparedChat, answer: string, opts: { stopped?: boolean; cutOff?: boolean } = {}) {
    if (chat.isNew) {
      const title = chat.question.replace(/\s+/g, ' ').trim().slice(0, TITLE_CHARS);
      await this.chats.create({ id: chat.chatId, user_id: session.userId, ciphertext: this.#seal(session, 'chats', chat.chatId, { title }) });
    } else {
      await this.chats.touch(session.userId, chat.chatId);
    }
    const userMsgId = randomUUID();
    const messageId = randomUUID();
    const answered = new Date(Math.max(Date.now(), chat.createdAt.getTime() + 1));
    const answerPayload: MessagePayload = { text: answer, sources: chat.sources, ...(opts.stopped ? { stopped: true } : {}), ...(opts.cutOff ? { cutOff: true } : {}) };
    await this.chats.addMessages([
      { id: userMsgId, chat_id: chat.chatId, user_id: session.userId, role: 'user', created_at: chat.createdAt, ciphertext: this.#seal(session, 'chat_messages', userMsgId, { text: chat.question, sources: [] }) },
      { id: messageId, chat_id: chat.chatId, user_id: session.userId, role: 'assistant', created_at: answered, ciphertext: this.#seal(session, 'chat_messages', messageId, answerPayload) },
    ]);
    return { chatId: chat.chatId, messageId };
  }

  async list(session: SessionContext, limit = 100) {
    const rows = await this.chats.list(session.userId, limit);
    return rows.map((r) => ({ id: r.id, title: this.#open<{ title: string }>(session, 'chats', r).title, updatedAt: r.updated_at.toISOString() }));
  }

  async get(session: SessionContext, id: string) {
    const chat = await this.chats.get(session.userId, id);
    if (!chat) throw notFound('Chat');
    const rows = await this.chats.messages(session.userId, id);
    return {
      id,
      title: this.#open<{ title: string }>(session, 'chats', chat).title,
      messages: rows.map((r) => {
        const p = this.#open<MessagePayload>(session, 'chat_messages', r);
        return {
          role: r.role as 'user' | 'assistant',
          text: p.text,
          sources: p.sources,
          createdAt: r.created_at.toISOString(),
          ...(p.stopped ? { stopped: true } : {}),
          ...(p.cutOff ? { cutOff: true } : {}),
        };
      }),
    };
  }

  /**
   * Restores a chat from an export under the given id (the importer derives a stable one), with
   * its messages as they were; false when that chat is already here.
   */
  async restore(
    session: SessionContext,
    chat: { id: string; title: string; messages: Array<{ role: 'user' | 'assistant'; text: string; sources: CitedSource[]; createdAt: string; stopped?: boolean }> },
  ): Promise<boolean> {
    if (await this.chats.get(session.userId, chat.id)) return false;
    await this.chats.create({ id: chat.id, user_id: session.userId, ciphertext: this.#seal(session, 'chats', chat.id, { title: chat.title }) });
    const rows = chat.messages.map((m) => {
      const id = randomUUID();
      const payload: MessagePayload = { text: m.text, sources: m.sources, ...(m.stopped ? { stopped: true } : {}) };
      return { id, chat_id: chat.id, user_id: session.userId, role: m.role, created_at: new Date(m.createdAt), ciphertext: this.#seal(session, 'chat_messages', id, payload) };
    });
    if (rows.length) await this.chats.addMessages(rows);
    return true;
  }

  async delete(session: SessionContext, id: string): Promise<void> {
    if (!(await this.chats.delete(session.userId, id))) throw notFound('Chat');
  }
}

/**
 * A follow-up that names no topic of its own ("and last year?") keeps the previous question's
 * metrics, kinds and keywords, with its own date range when it gives one.
 */
function withTopicOf(parsed: ParsedQuestion, history: Array<{ role: string; text: string }>, now: Date, timeZone?: string): ParsedQuestion {
  const previous = [...history].reverse().find((m) => m.role === 'user');
  if (!previous || parsed.metrics.length || parsed.kinds.length || parsed.keywords.length > 1) return parsed;
  const before = parseQuestion(previous.text, now, timeZone);
  return {
    ...parsed,
    metrics: before.metrics,
    kinds: before.kinds,
    keywords: [...new Set([...before.keywords, ...parsed.keywords])],
    range: parsed.range ?? before.range,
  };
}

export { AppError };
