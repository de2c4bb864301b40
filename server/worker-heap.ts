import v8 from 'node:v8';
import type { ResourceLimits } from 'node:worker_threads';

/**
 * Worker threads' young generation, apart from the server's own. The server runs with
 * `--max-semi-space-size` (npm start, Dockerfile) sized for request handling, whose garbage is
 * short-lived: a larger young generation collects it less often, for less CPU per request. V8
 * applies that flag to every isolate the process creates, overriding a worker's
 * `resourceLimits.maxYoungGenerationSizeMb`, and an import worker's young generation and the
 * buffers waiting for it to be collected count in the server's resident memory, which an
 * import must keep bounded (docs/scale.md, twelfth stop). The flag is read when an isolate is
 * created, so clearing it once the server's own isolate exists leaves the server's young
 * generation as started and lets each worker's limit apply.
 */

/** A worker's young generation: 2 MB semi-spaces, what every worker ran with before. */
export const WORKER_YOUNG_GENERATION_MB = 4;

let cleared = false;

/** `limits` with the worker's young generation set, for `new Worker(..., { resourceLimits })`. */
export function workerResourceLimits(limits: ResourceLimits): ResourceLimits {
  if (!cleared) {
    // 0 is the flag's "not set": the isolate's own constraints decide.
    v8.setFlagsFromString('--max-semi-space-size=0');
    cleared = true;
  }
  return { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB, ...limits };
}
