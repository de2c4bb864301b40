/**
 * Runs `task` now (awaited, so start-up waits for it) and then every `everyMs`, never two at
 * once. A failure is handed to `onError` and the schedule goes on. The timer is unref'd so it
 * never keeps the process alive; `stop()` waits for a run in progress.
 */
export async function startPeriodic(task: () => Promise<void>, everyMs: number, onError: (err: unknown) => void): Promise<{ stop(): Promise<void> }> {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return running ?? Promise.resolve();
    running = task()
      .catch(onError)
      .finally(() => {
        running = null;
      });
    return running;
  };
  await tick();
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
