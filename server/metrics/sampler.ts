import { TraceFlags, type SpanContext } from '@opentelemetry/api';

/** Whether a new span (with this valid parent, if any, in this trace) is recorded. */
export type Sampler = (parent: SpanContext | undefined, traceId: string) => boolean;

const alwaysOn: Sampler = () => true;
const alwaysOff: Sampler = () => false;

/**
 * The SDK's TraceIdRatioBased: the trace id's 32-bit words XORed, below ratio x 2^32, so every
 * service with the same ratio keeps the same traces.
 */
function traceIdRatio(ratio: number): Sampler {
  const bound = ratio === 1 ? 0x100000000 : Math.floor(ratio * 0xffffffff);
  return (_parent, traceId) => {
    let acc = 0;
    for (let i = 0; i < traceId.length; i += 8) acc = (acc ^ Number.parseInt(traceId.slice(i, i + 8), 16)) >>> 0;
    return acc < bound;
  };
}

/** A child follows its parent's decision; a root asks `root`. */
const parentBased =
  (root: Sampler): Sampler =>
  (parent, traceId) =>
    parent ? (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED : root(parent, traceId);

/** OTEL_TRACES_SAMPLER_ARG as the SDK reads it: a ratio in [0, 1], else 1. */
function ratioArg(arg: string | undefined): number {
  const n = arg === undefined || arg.trim() === '' ? Number.NaN : Number(arg);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : 1;
}

/**
 * The sampler OTEL_TRACES_SAMPLER names (with OTEL_TRACES_SAMPLER_ARG for the ratio ones), as the
 * SDK chooses it; unset or unknown is the SDK's default, parentbased_always_on.
 */
export function samplerFromEnv(env: NodeJS.ProcessEnv = process.env): Sampler {
  switch (env.OTEL_TRACES_SAMPLER?.trim().toLowerCase()) {
    case 'always_on':
      return alwaysOn;
    case 'always_off':
      return alwaysOff;
    case 'traceidratio':
      return traceIdRatio(ratioArg(env.OTEL_TRACES_SAMPLER_ARG));
    case 'parentbased_always_off':
      return parentBased(alwaysOff);
    case 'parentbased_traceidratio':
      return parentBased(traceIdRatio(ratioArg(env.OTEL_TRACES_SAMPLER_ARG)));
    default:
      return parentBased(alwaysOn);
  }
}
