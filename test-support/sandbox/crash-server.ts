// A stand-in "server" for the orphan test: it warms a pool of real stand-in processes, prints
// their pids, then waits to be killed with SIGKILL so nothing gets cleaned up.
import { SandboxPool } from '../../sandbox/pool.js';
import { ProcessRuntime } from './process-runtime.js';

const stateDir = process.argv[2];
const count = Number(process.argv[3] ?? 2);
if (!stateDir) throw new Error('usage: crash-server.ts <stateDir> [count]');
const runtime = new ProcessRuntime({ stateDir });
const pool = new SandboxPool(runtime, { minWarm: count, max: count, maxUses: 10, maxAgeMs: 60_000, queueMax: 4, acquireTimeoutMs: 5000 });
await pool.start();
while (pool.metrics().idle < count) await new Promise((r) => setTimeout(r, 20));
const pids = [...runtime.children.values()].map((c) => c.pid);
process.stdout.write(JSON.stringify({ pids }) + '\n');
setInterval(() => {}, 1 << 30);
