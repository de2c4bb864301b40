import { ConfigError, dataDirFailure, loadConfig } from './config.js';
import { buildApp } from './app.js';

async function main(): Promise<void> {
  const config = loadConfig();
  // Exit code 70 (EX_SOFTWARE): a supervisor (systemd, Docker's restart policy) starts it afresh.
  const app = await buildApp({ config, onDatabaseDead: () => process.exit(70) }).catch((err: unknown) => {
    // An existing install on a read-only DATA_DIR passes the configuration and fails here (pg.lock).
    throw dataDirFailure(err, config.dataDir) ?? err;
  });
  const shutdown = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => process.exit(1), 30_000);
    timer.unref();
    await app.close();
    process.exit(0);
  };
  let stopping = false;
  const onSignal = (signal: string) => {
    // A second Ctrl-C or SIGTERM means "now": long exports and uploads are cut off.
    if (stopping) process.exit(1);
    stopping = true;
    void shutdown(signal);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  await app.listen({ port: config.PORT, host: config.HOST });
  const shown = new URL(config.publicUrl);
  app.log.info(`Context Vault is running at ${shown.origin}`);
}

main().catch((err) => {
  // What the operator must change: exit code 2, which a supervisor should not retry as a crash.
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`Context Vault failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
