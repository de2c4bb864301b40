// Worker-thread entry of the Apple Health import (see apple-health-worker.ts, which it loads).
// Plain JS on purpose: a worker starts without the parent's TypeScript loader unless the parent
// was started with `node --import tsx` (workers inherit execArgv), so when importing the .ts
// fails this registers tsx (a runtime dependency) in the worker and tries again.
try {
  await import('./apple-health-worker.ts');
} catch (err) {
  if (err?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
  const { register } = await import('tsx/esm/api');
  register();
  // Another URL: the failed import above stays cached under the plain one.
  await import('./apple-health-worker.ts?loader=tsx');
}
