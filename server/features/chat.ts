import { chatRoutes } from '../routes/chat/index.js';
import { modelsRoutes } from '../routes/models/index.js';
import type { Feature } from './feature.js';

/** Chat with the vault (answers streamed from the sandbox pool) and Settings -> Models. */
export const chat: Feature = async (app, c) => {
  await app.register(chatRoutes({ chat: c.chat, stream: c.chatStream, models: c.models, perMinute: c.config.RATE_LIMIT_CHAT_PER_MIN }));
  await app.register(modelsRoutes({ models: c.models }));
};
