import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running {@link startStuckOllama}. */
export interface StuckOllama {
  url: string;
  /** Paths of the requests the client gave up on (closed the connection). */
  hungUp: string[];
  close(): Promise<void>;
}

/**
 * An Ollama whose runner is stuck: it takes every request and never answers, not even the
 * headers (a model that never loads, a wedged GPU). What deadlines on the model are tested with.
 */
export async function startStuckOllama(): Promise<StuckOllama> {
  const hungUp: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    res.on('close', () => hungUp.push(new URL(req.url ?? '/', 'http://x').pathname));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hungUp,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
