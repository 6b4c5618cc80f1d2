/**
 * Worker process entry: `node apps/worker/dist/main.js`. Configuration from
 * the environment (see .env.example). SIGTERM/SIGINT: graceful shutdown
 * within SHUTDOWN_TIMEOUT_MS; a second signal exits at once.
 */
import { loggerOptions } from '@baton/core';
import pino from 'pino';
import { EnvError, loadEnv } from './env';
import { WorkerApp } from './worker-app';

async function main(): Promise<void> {
  let env;
  try {
    env = loadEnv();
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = pino(loggerOptions('baton-worker', env.LOG_LEVEL));
  const app = await WorkerApp.start({ env, logger });

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    logger.info({ signal, deadlineMs: env.SHUTDOWN_TIMEOUT_MS }, 'shutting down: no new jobs, letting running ones end');
    app.close().then(
      () => {
        logger.info('worker closed');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
