import { randomUUID } from 'node:crypto';
import { isVisible, RenameChatBody, stripBidiControls } from '../../contract/index.js';
import { chat as chatCodec, chatMessage } from '../codec/index.js';
import type { Lease, SandboxPool } from '../../sandbox/pool.js';
import type { SandboxRuntimeKind } from '../../sandbox/runtime.js';
import { ANSWER_TOKENS } from '../../sandbox/ollama.js';
import { isCloudModel } from '../../sandbox/config.js';
import { sameModel } from '../../sandbox/model-names.js';
import { AiOfflineError, PoolSaturatedError, PoolTimeoutError, SandboxError } from '../../sandbox/errors.js';
import { estimateMessagesTokens, truncateToTokens } from '../chat/budget.js';
import { chatToMarkdown, exportDisposition } from '../chat/export-markdown.js';
import { buildPrompt, type PromptMessage } from '../chat/prompt.js';
import { parseQuestion, type ParsedQuestion } from '../chat/question.js';
import { asBuffer } from '../db/index.js';
import { AppError, badRequest, conflict, notFound, unavailable } from '../errors.js';
import type { ChatMetrics } from '../metrics/chat.js';
import { withSpan } from '../metrics/tracing.js';
import type { ChatsRepository } from '../repositories/chats.repository.js';
import type { SessionContext } from './keyring.js';
import type { CitedSource, RetrievalService } from './retrieval.service.js';
import type { SharedLease } from './turn-lease.js';

/** What the model was given for an answer, without the prompt itself (never stored). */
export interface AnswerContext {
  model: string;
  numCtx: number;
  /** Estimated tokens of everything sent (rules, earlier turns, sources, question). */
  promptTokens: number;
  /** Tokens kept free for the answer. */
  answerReserve: number;
  /** Sources retrieval found, and how many fit in the context. */
  sourcesFound: number;
  sourcesUsed: number;
  /** The source cut short to fit, if any. */
  truncated?: number;
  historyMessages: number;
  /** `keyword` when no embedding model took part (the UI says "keyword search only"). */
  retrieval?: 'hybrid' | 'keyword';
}

interface Alternative {
  text: string;
  sources: CitedSource[];
  createdAt: string;
  context?: AnswerContext;
  stopped?: boolean;
  cutOff?: boolean;
}

/** The sealed `chats` row: its title and, when one was picked, its model. */
interface ChatPayload {
  title: string;
  model?: string;
}

interface MessagePayload {
  text: string;
  sources: CitedSource[];
  /**
   * When a regenerated answer was written: Regenerate updates the row in place, whose
   * `created_at` stays the first answer's. Absent (every other message, and answers stored
   * before this field existed): the row's `created_at`.
   */
  createdAt?: string;
  stopped?: boolean;
  /** The answer reached the length limit (`done_reason: "length"`) and ends there. */
  cutOff?: boolean;
  context?: AnswerContext;
  /** Earlier answers to the same question, replaced by Regenerate (oldest first). */
  alternatives?: Alternative[];
}

export interface PreparedChat {
  chatId: string;
  isNew: boolean;
  question: string;
  /** Only the sources that fit in the prompt: the ones the answer may cite. */
  sources: CitedSource[];
  messages: PromptMessage[];
  createdAt: Date;
  context: AnswerContext;
  /** The model that answers: the one asked for, else the chat's own, else the server default. */
  model: string;
  /**
   * The request named `model`. A new chat stores it even when it is today's default, so that a
   * later change of the default does not switch the chat; one that never named a model keeps
   * following the default. See #keepModel for follow-ups.
   */
  namedModel?: true;
  /**
   * `model` is the server's default chat model (neither the request nor the chat named one): a
   * name an admin chose, so metrics may label it before the runtime has served it.
   */
  defaultModel?: true;
  /** Set by regenerate: the answer this one replaces (kept as an alternative). */
  replaces?: { messageId: string | null };
}

/** Longest automatic title, in UTF-16 units (the unit of the contract's title limit). */
const TITLE_CHARS = 80;
/** The title of a chat whose first question leaves nothing to show (the app's name for it). */
const UNTITLED = 'Untitled chat';
/** The rule a renamed chat's title must pass (contract nameField); an automatic one too. */
const ChatTitle = RenameChatBody.shape.title;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** Earlier turns given to the model with a follow-up question, and their size each. */
const HISTORY_MESSAGES = 4;
const HISTORY_TOKENS_EACH = 300;
// The answer's share of num_ctx; streamChat caps the answer at the same number (num_predict).
const ANSWER_RESERVE = ANSWER_TOKENS;
/** Earlier answers kept per question; Regenerate beyond this drops the oldest. */
const MAX_ALTERNATIVES = 10;
/**
 * How long a turn's claim on its chat holds without renewal (renewed every third of it while the
 * turn runs): the longest a chat stays busy after the instance answering it died.
 */
const TURN_CLAIM_MS = 60_000;
/** PostgreSQL's (and PGlite's) SQLSTATE for an insert whose parent row is gone. */
const FOREIGN_KEY_VIOLATION = '23503';

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
    readonly opts: {
      model: string;
      numCtx: number;
      runtime: SandboxRuntimeKind;
      /** The server's current default chat model (Settings -> Models), over `model`. */
      defaultModel?: () => Promise<string>;
      metrics?: ChatMetrics;
      /** How long a turn's claim on its chat holds unless renewed (default {@link TURN_CLAIM_MS}). */
      turnClaimMs?: number;
    },
  ) {}

  /** The model a chat gets when neither it nor the request picked one. */
  #defaultModel(): Promise<string> {
    return this.opts.defaultModel ? this.opts.defaultModel() : Promise.resolve(this.opts.model);
  }

  #seal(session: SessionContext, table: 'chats' | 'chat_messages', id: string, value: unknown, version = 1): Buffer {
    return CODECS[table].seal(session.keys, { userId: session.userId, id, version }, value);
  }

  #open<T>(session: SessionContext, table: 'chats' | 'chat_messages', row: { id: string; version: number; ciphertext: Uint8Array }): T {
    return CODECS[table].open(session.keys, { userId: session.userId, id: row.id, version: row.version }, asBuffer(row.ciphertext)) as T;
  }

  /** `/health/ollama`: ok, or offline with the pool's reason ("No model pulled: ..."). */
  async health(): Promise<{ status: 'ok' | 'offline'; runtime: SandboxRuntimeKind; code?: string; message?: string }> {
    const runtime = this.opts.runtime;
    if (!this.pool) return { status: 'offline', runtime };
    const h = await this.pool.health();
    return h.ok ? { status: 'ok', runtime } : { status: 'offline', runtime, code: h.code, message: h.message };
  }

  /**
   * Holds a chat for one turn (a follow-up or a regeneration) until the returned function runs.
   * A second turn meanwhile, on this instance or another on the same database, is refused (409
   * `chat_busy`) rather than interleaved: both would answer from the same history and store their
   * question and answer apart from each other. The claim is a row lock with an expiry, renewed
   * while the turn runs, so an instance that dies mid-turn leaves the chat free soon after. 404
   * for a chat that is not the user's.
   */
  async beginTurn(session: SessionContext, chatId: string): Promise<() => Promise<void>> {
    const ms = this.opts.turnClaimMs ?? TURN_CLAIM_MS;
    const turnId = randomUUID();
    const claimed = await this.chats.claimTurn(session.userId, chatId, turnId, ms);
    if (claimed === 'missing') throw notFound('Chat');
    if (claimed === 'busy') throw conflict('This chat is still answering; wait for it to finish or stop it.', 'chat_busy');
    // A failed renewal is retried at the next tick; past the claim's time another turn may start.
    const renew = setInterval(() => void this.chats.renewTurn(session.userId, chatId, turnId, ms).catch(() => {}), ms / 3);
    renew.unref();
    let ended: Promise<void> | undefined;
    return () => {
      clearInterval(renew);
      // Not freed (the database did not answer): the claim runs out by itself.
      ended ??= this.chats.endTurn(session.userId, chatId, turnId).catch(() => {});
      return ended;
    };
  }

  /** `shared`: the turn's sandbox lease (see TurnLease), for a step before the answer that needs one. */
  async prepare(
    session: SessionContext,
    input: { message: string; chatId?: string; timeZone?: string; model?: string },
    now = new Date(),
    shared?: SharedLease,
  ): Promise<PreparedChat> {
    const history = input.chatId ? await this.#history(session, input.chatId) : [];
    const stored = input.chatId ? await this.#chatPayload(session, input.chatId) : undefined;
    const prepared = await this.#build(session, { ...input, history, model: input.model ?? stored?.model }, now, shared);
    return input.model !== undefined ? { ...prepared, namedModel: true } : prepared;
  }

  async #chatPayload(session: SessionContext, chatId: string): Promise<ChatPayload> {
    const chat = await this.chats.get(session.userId, chatId);
    if (!chat) throw notFound('Chat');
    return this.#open<ChatPayload>(session, 'chats', chat);
  }

  /**
   * Prepares a new answer to the chat's last question, from the turns before it only, for a
   * fresh sandbox lease; `save` keeps the answer it replaces as an alternative.
   */
  async prepareRegenerate(
    session: SessionContext,
    chatId: string,
    input: { timeZone?: string } = {},
    now = new Date(),
    shared?: SharedLease,
  ): Promise<PreparedChat> {
    if (!(await this.chats.get(session.userId, chatId))) throw notFound('Chat');
    const rows = await this.chats.messages(session.userId, chatId);
    const lastUser = rows.map((r) => r.role).lastIndexOf('user');
    if (lastUser < 0) throw conflict('This chat has no question to answer again.', 'nothing_to_regenerate');
    const question = this.#open<MessagePayload>(session, 'chat_messages', rows[lastUser]!).text;
    const history = rows
      .slice(Math.max(0, lastUser - HISTORY_MESSAGES), lastUser)
      .map((r) => ({ role: r.role, text: this.#open<MessagePayload>(session, 'chat_messages', r).text }));
    const previous = rows.slice(lastUser + 1).find((r) => r.role === 'assistant');
    const { model } = await this.#chatPayload(session, chatId);
    const prepared = await this.#build(session, { message: question, chatId, timeZone: input.timeZone, history, model }, now, shared);
    return { ...prepared, replaces: { messageId: previous?.id ?? null } };
  }

  async #build(
    session: SessionContext,
    input: { message: string; chatId?: string; timeZone?: string; model?: string; history: Array<{ role: string; text: string }> },
    now: Date,
    shared?: SharedLease,
  ): Promise<PreparedChat> {
    const { history } = input;
    const model = input.model ?? (await this.#defaultModel());
    // Before retrieval and any lease: a cloud model would get the question and the vault's sources.
    if (isCloudModel(model)) throw badRequest(`${model} is a cloud model: it runs on ollama.com and would get the prompt.`, 'cloud_model');
    const parsed = withTopicOf(parseQuestion(input.message, now, input.timeZone), history, now, input.timeZone);
    const retrievalStarted = performance.now();
    const found = await withSpan('retrieval', {}, async (span) => {
      const r = await this.retrieval.retrieve(session, input.message, parsed, now, shared);
      span.setAttribute('cv.retrieval.sources', r.cited.length);
      return r;
    });
    const retrievalSeconds = (performance.now() - retrievalStarted) / 1000;
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
    const messages = [built.messages[0]!, ...turns, ...built.messages.slice(1)];
    const sources = found.cited.filter((c) => used.has(c.n));
    const promptTokens = estimateMessagesTokens(messages);
    this.opts.metrics?.prepared({
      retrievalSeconds,
      sourcesFound: found.cited.length,
      sourcesUsed: sources.length,
      promptTokens,
      budgetTokens: this.opts.numCtx - ANSWER_RESERVE,
    });
    return {
      model,
      ...(input.model === undefined ? { defaultModel: true as const } : {}),
      chatId: input.chatId ?? randomUUID(),
      isNew: !input.chatId,
      question: input.message,
      sources,
      messages,
      createdAt: now,
      context: {
        model,
        numCtx: this.opts.numCtx,
        promptTokens,
        answerReserve: ANSWER_RESERVE,
        sourcesFound: found.cited.length,
        sourcesUsed: sources.length,
        ...(built.truncated !== undefined ? { truncated: built.truncated } : {}),
        historyMessages: turns.length,
        retrieval: found.mode,
      },
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
    const pool = this.pool;
    const started = performance.now();
    const waited = (outcome: Parameters<ChatMetrics['leaseWait']>[0]) => this.opts.metrics?.leaseWait(outcome, (performance.now() - started) / 1000);
    try {
      const lease = await withSpan('sandbox.lease', {}, () => pool.acquire(session.userId, { signal }));
      waited('ok');
      return lease;
    } catch (err) {
      waited(
        err instanceof PoolSaturatedError ? 'saturated' : err instanceof PoolTimeoutError ? 'timeout' : err instanceof AiOfflineError ? 'offline' : 'error',
      );
      if (err instanceof PoolSaturatedError) throw unavailable('The AI is busy. Try again in a moment.', 'pool_saturated', 5);
      if (err instanceof PoolTimeoutError) throw unavailable('The AI is busy. Try again in a moment.', 'pool_timeout', 5);
      if (err instanceof AiOfflineError) throw unavailable('The AI is offline.', 'ai_offline');
      // An operator's fix, not a retry: say exactly what is missing.
      if (err instanceof SandboxError && (err.code === 'no_model' || err.code === 'image_missing')) throw unavailable(err.message, err.code, 30);
      if (err instanceof SandboxError) throw unavailable('The AI could not be started. Try again later.', 'ai_offline', 10);
      throw err;
    }
  }

  /**
   * Stores the question and the (possibly partial) answer, encrypted, with the cited ids; null
   * when the chat was deleted while it was being answered.
   */
  async save(
    session: SessionContext,
    chat: PreparedChat,
    answer: string,
    opts: { stopped?: boolean; cutOff?: boolean } = {},
  ): Promise<{ chatId: string; messageId: string } | null> {
    try {
      // Deleted while it was answering (another tab): nothing is left to add the turn to.
      if (!chat.isNew && !(await this.chats.get(session.userId, chat.chatId))) return null;
      return await (chat.replaces ? this.#saveRegenerated(session, chat, answer, opts) : this.#saveTurn(session, chat, answer, opts));
    } catch (err) {
      // The same, when the delete landed between that check and the insert.
      if (!chat.isNew && (err as { code?: unknown })?.code === FOREIGN_KEY_VIOLATION) return null;
      throw err;
    }
  }

  async #saveTurn(session: SessionContext, chat: PreparedChat, answer: string, opts: { stopped?: boolean; cutOff?: boolean }) {
    if (chat.isNew) {
      const title = titleFromQuestion(chat.question);
      const payload: ChatPayload = chat.namedModel ? { title, model: chat.model } : { title };
      await this.chats.create({ id: chat.chatId, user_id: session.userId, ciphertext: this.#seal(session, 'chats', chat.chatId, payload) });
    } else {
      await this.#keepModel(session, chat);
      await this.chats.touch(session.userId, chat.chatId);
    }
    const userMsgId = randomUUID();
    const messageId = randomUUID();
    const answered = new Date(Math.max(Date.now(), chat.createdAt.getTime() + 1));
    const answerPayload: MessagePayload = {
      text: answer,
      sources: chat.sources,
      context: chat.context,
      ...(opts.stopped ? { stopped: true } : {}),
      ...(opts.cutOff ? { cutOff: true } : {}),
    };
    await this.chats.addMessages([
      {
        id: userMsgId,
        chat_id: chat.chatId,
        user_id: session.userId,
        role: 'user',
        created_at: chat.createdAt,
        ciphertext: this.#seal(session, 'chat_messages', userMsgId, { text: chat.question, sources: [] }),
      },
      {
        id: messageId,
        chat_id: chat.chatId,
        user_id: session.userId,
        role: 'assistant',
        created_at: answered,
        ciphertext: this.#seal(session, 'chat_messages', messageId, answerPayload),
      },
    ]);
    return { chatId: chat.chatId, messageId };
  }

  /** The new answer takes the old one's place; the old one (and its own alternatives) are kept. */
  async #saveRegenerated(session: SessionContext, chat: PreparedChat, answer: string, opts: { stopped?: boolean; cutOff?: boolean }) {
    await this.chats.touch(session.userId, chat.chatId);
    const answered = new Date(Math.max(Date.now(), chat.createdAt.getTime()));
    const fresh = {
      text: answer,
      sources: chat.sources,
      context: chat.context,
      ...(opts.stopped ? { stopped: true } : {}),
      ...(opts.cutOff ? { cutOff: true } : {}),
    };
    const oldId = chat.replaces!.messageId;
    const old = oldId ? await this.chats.message(session.userId, chat.chatId, oldId) : undefined;
    if (!old) {
      const messageId = randomUUID();
      await this.chats.addMessages([
        {
          id: messageId,
          chat_id: chat.chatId,
          user_id: session.userId,
          role: 'assistant',
          created_at: answered,
          ciphertext: this.#seal(session, 'chat_messages', messageId, fresh),
        },
      ]);
      return { chatId: chat.chatId, messageId };
    }
    const p = this.#open<MessagePayload>(session, 'chat_messages', old);
    const { alternatives = [], ...previous } = p;
    // The row keeps its first created_at, so the new answer carries its own time, and the one it
    // replaces keeps the time it had (its own, or the row's for the first answer).
    const payload: MessagePayload = {
      ...fresh,
      createdAt: answered.toISOString(),
      alternatives: [...alternatives, { ...previous, createdAt: previous.createdAt ?? old.created_at.toISOString() }].slice(-MAX_ALTERNATIVES),
    };
    const version = old.version + 1;
    await this.chats.updateMessage(session.userId, old.id, this.#seal(session, 'chat_messages', old.id, payload, version), version);
    return { chatId: chat.chatId, messageId: old.id };
  }

  /** Renames a chat; the title is sealed again under a new row version (its model is kept). */
  async rename(session: SessionContext, id: string, title: string) {
    const chat = await this.chats.get(session.userId, id);
    if (!chat) throw notFound('Chat');
    const { model } = this.#open<ChatPayload>(session, 'chats', chat);
    const version = chat.version + 1;
    const updatedAt = await this.chats.updateTitle(
      session.userId,
      id,
      this.#seal(session, 'chats', id, { title, ...(model ? { model } : {}) }, version),
      version,
    );
    return { id, title, updatedAt: updatedAt.toISOString() };
  }

  /**
   * A follow-up that named another model than the chat's makes it the chat's model from then on.
   * Naming the chat's own model changes nothing: the app sends the model `get` showed, which for
   * a chat that never named one is the default, and that chat should go on following it. One
   * that named none changes nothing either (the default may have changed since `prepare`).
   */
  async #keepModel(session: SessionContext, prepared: PreparedChat): Promise<void> {
    if (!prepared.namedModel) return;
    const chat = await this.chats.get(session.userId, prepared.chatId);
    if (!chat) return;
    const p = this.#open<ChatPayload>(session, 'chats', chat);
    if (sameModel(p.model ?? (await this.#defaultModel()), prepared.model)) return;
    const version = chat.version + 1;
    await this.chats.updateTitle(session.userId, chat.id, this.#seal(session, 'chats', chat.id, { title: p.title, model: prepared.model }, version), version);
  }

  /**
   * One page, most recently updated first. The cursor is base64url of `updated_at|id` of the
   * page's last chat, like the item list's, but with updated_at to the microsecond (see
   * ChatsRepository.list); it is checked strictly here, so nothing malformed reaches the SQL.
   */
  async list(
    session: SessionContext,
    q: { limit?: number; cursor?: string } = {},
  ): Promise<{ chats: Array<{ id: string; title: string; updatedAt: string }>; nextCursor: string | null }> {
    const limit = q.limit ?? 100;
    let after: { updatedAt: string; id: string } | undefined;
    if (q.cursor !== undefined) {
      const [at = '', id = '', ...rest] = Buffer.from(q.cursor, 'base64url').toString('utf8').split('|');
      const ms = `${at.slice(0, 23)}Z`;
      const valid =
        rest.length === 0 &&
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(at) &&
        // A real instant (no 13th month): the millisecond part reads back as itself.
        !Number.isNaN(Date.parse(ms)) &&
        new Date(ms).toISOString() === ms &&
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
      if (!valid) throw badRequest('Invalid cursor.', 'invalid_cursor');
      after = { updatedAt: at, id };
    }
    // One row more than the page says whether there is a next one.
    const rows = await this.chats.list(session.userId, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      chats: page.map((r) => ({ id: r.id, title: this.#open<{ title: string }>(session, 'chats', r).title, updatedAt: r.updated_at.toISOString() })),
      nextCursor: rows.length > limit && last ? Buffer.from(`${last.cursor_at}|${last.id}`).toString('base64url') : null,
    };
  }

  async get(session: SessionContext, id: string) {
    const chat = await this.chats.get(session.userId, id);
    if (!chat) throw notFound('Chat');
    const rows = await this.chats.messages(session.userId, id);
    const head = this.#open<ChatPayload>(session, 'chats', chat);
    return {
      id,
      title: head.title,
      model: head.model ?? (await this.#defaultModel()),
      messages: rows.map((r) => {
        const p = this.#open<MessagePayload>(session, 'chat_messages', r);
        return {
          id: r.id,
          role: r.role as 'user' | 'assistant',
          text: p.text,
          sources: p.sources,
          createdAt: p.createdAt ?? r.created_at.toISOString(),
          ...(p.stopped ? { stopped: true } : {}),
          ...(p.cutOff ? { cutOff: true } : {}),
          ...(p.context ? { context: p.context } : {}),
          ...(p.alternatives?.length ? { alternatives: p.alternatives } : {}),
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
    chat: {
      id: string;
      title: string;
      model?: string;
      messages: Array<{
        role: 'user' | 'assistant';
        text: string;
        sources: CitedSource[];
        createdAt: string;
        stopped?: boolean;
        cutOff?: boolean;
        context?: AnswerContext;
        alternatives?: Alternative[];
      }>;
    },
  ): Promise<boolean> {
    if (await this.chats.get(session.userId, chat.id)) return false;
    await this.chats.create({
      id: chat.id,
      user_id: session.userId,
      ciphertext: this.#seal(session, 'chats', chat.id, chat.model ? { title: chat.title, model: chat.model } : { title: chat.title }),
    });
    const rows = chat.messages.map((m) => {
      const id = randomUUID();
      const payload: MessagePayload = {
        text: m.text,
        sources: m.sources,
        ...(m.stopped ? { stopped: true } : {}),
        ...(m.cutOff ? { cutOff: true } : {}),
        ...(m.context ? { context: m.context } : {}),
        ...(m.alternatives?.length ? { alternatives: m.alternatives } : {}),
      };
      return {
        id,
        chat_id: chat.id,
        user_id: session.userId,
        role: m.role,
        created_at: new Date(m.createdAt),
        ciphertext: this.#seal(session, 'chat_messages', id, payload),
      };
    });
    if (rows.length) await this.chats.addMessages(rows);
    return true;
  }

  /** The chat as Markdown with the sources of every answer listed (see chat/export-markdown.ts). */
  async exportMarkdown(session: SessionContext, id: string): Promise<{ markdown: string; disposition: string }> {
    const chat = await this.get(session, id);
    return { markdown: chatToMarkdown(chat), disposition: exportDisposition(chat.title) };
  }

  async delete(session: SessionContext, id: string): Promise<void> {
    if (!(await this.chats.delete(session.userId, id))) throw notFound('Chat');
  }
}

/**
 * A chat's automatic title: its first question as one line, cut to TITLE_CHARS at a character
 * boundary. Control characters (C0, DEL, C1: Unicode's `Cc`, the range the contract refuses in
 * names) and lone surrogate halves become spaces, and bidi controls go (they would reverse the
 * chat list's line, and the rename rule refuses them); a cut never splits a grapheme (an emoji,
 * a letter with its accents), and no invisible one (a zero-width space) is left at either end.
 * What is left must pass the rename rule, else UNTITLED: also when nothing visible is left.
 */
export function titleFromQuestion(question: string): string {
  const line = stripBidiControls(question)
    .replace(/[\p{Cc}\p{Cs}]/gu, ' ')
    .replace(/\s+/g, ' ');
  const fit = (parts: string[]) => {
    let units = 0;
    let n = 0;
    for (; n < parts.length && units + parts[n]!.length <= TITLE_CHARS; n++) units += parts[n]!.length;
    return trimInvisible(parts.slice(0, n)).join('');
  };
  const parts = trimInvisible(Array.from(graphemes.segment(line), (g) => g.segment));
  // A first grapheme longer than the limit (a letter under dozens of marks) is cut by code point.
  const title = fit(parts) || fit(Array.from(parts.join('')));
  return ChatTitle.safeParse(title).success ? title : UNTITLED;
}

/**
 * `parts` without the invisible ones (whitespace, format characters) at either end. Inside the
 * text they stay: a zero-width joiner makes an emoji sequence, a non-joiner spells a Persian word.
 */
function trimInvisible(parts: string[]): string[] {
  let start = 0;
  let end = parts.length;
  while (start < end && !isVisible(parts[start]!)) start++;
  while (end > start && !isVisible(parts[end - 1]!)) end--;
  return parts.slice(start, end);
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
