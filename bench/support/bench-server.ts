/**
 * The real server in its own process for benchmarks, plus a plain JSON echo route as the
 * baseline: same process, same framework, no auth, no database, no crypto.
 */
import { buildApp } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';

const app = await buildApp({ config: loadConfig() });
app.post('/bench/echo', async (req) => req.body);
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
const addr = app.server.address();
process.stdout.write(`LISTENING ${typeof addr === 'object' && addr ? addr.port : ''}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
