import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Metrics } from './registry.js';

/**
 * Event-loop delay over the last scrape interval (p50, p99, max), from a 20 ms-resolution
 * histogram that is reset at each scrape: a server busy decrypting or parsing shows here
 * before requests time out. (prom-client's default `cv_nodejs_eventloop_lag_*` measure since
 * start-up, which hides a recent stall.)
 */
export function observeEventLoop(metrics: Metrics): { stop(): void } {
  const h = monitorEventLoopDelay({ resolution: 20 });
  h.enable();
  const gauge = metrics.gauge({
    name: 'cv_event_loop_delay_seconds',
    help: 'Event-loop delay since the previous scrape, by quantile (0.5, 0.99, 1 = max).',
    labelNames: ['quantile'],
    collect() {
      if (h.count === 0) return;
      gauge.set({ quantile: '0.5' }, h.percentile(50) / 1e9);
      gauge.set({ quantile: '0.99' }, h.percentile(99) / 1e9);
      gauge.set({ quantile: '1' }, h.max / 1e9);
      h.reset();
    },
  });
  return { stop: () => h.disable() };
}
