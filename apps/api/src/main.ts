import pino from 'pino';
import { buildApp } from './app';
import { loadEnv } from './env';

/**
 * Process entry: configuration, logger, server timeouts, listen, and a
 * graceful close on SIGINT/SIGTERM (stop accepting, end SSE streams, finish
 * in-flight requests, close Redis), forced after SHUTDOWN_TIMEOUT_MS.
 */
async function main(): Promise<void> {
  const config = loadEnv();
  const logger = pino({ name: 'baton-api', level: config.logLevel });
  const app = await buildApp(
    config,
    { logger },
    {
      requestTimeout: config.requestTimeoutMs,
      connectionTimeout: 0,
      keepAliveTimeout: 72_000,
      // Node's requestTimeout bounds receiving a request, not answering it: SSE streams are not cut
      // (they are ended by the app's preClose hook).
      return503OnClosing: true,
      forceCloseConnections: 'idle',
    },
  );

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  await app.listen({ host: config.host, port: config.port });
}

main().catch((err: unknown) => {
  process.stderr.write(`baton api: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
