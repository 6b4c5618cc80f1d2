import { loggerOptions } from '@baton/core';
import pino from 'pino';
import { buildApp } from './app';
import { loadEnv } from './env';
import { startMetricsServer, type MetricsServer } from './http/metrics-server';

/**
 * Process entry: configuration, logger, server timeouts, listen, and a
 * graceful close on SIGINT/SIGTERM (stop accepting, end SSE streams, finish
 * in-flight requests, close Redis), forced after SHUTDOWN_TIMEOUT_MS.
 */
async function main(): Promise<void> {
  const config = loadEnv();
  const logger = pino(loggerOptions('baton-api', config.logLevel));
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

  let metricsServer: MetricsServer | undefined;
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
    Promise.all([app.close(), metricsServer?.close()]).then(
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
  if (config.metrics.port !== null) {
    metricsServer = await startMetricsServer(app.metrics, { host: config.host, port: config.metrics.port, token: config.metrics.token, logger });
    logger.info({ host: config.host, port: metricsServer.port }, 'metrics at /metrics on their own port');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`baton api: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
