import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../logger';

const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Routes the SDK's own logs (worker and core) into our JSON logger. Call once per process, before any
 * worker or NativeConnection is made. With `metricsBind` (host:port, TEMPORAL_METRICS_BIND) the SDK
 * core also serves its own metrics (`temporal_*`) for Prometheus at http://<metricsBind>/metrics, in
 * seconds with `_total` counters; a port already taken makes start-up fail.
 */
export function installRuntime(logger: Logger, level: LogLevel = 'WARN', metricsBind?: string | null): void {
  const sdk = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    // The process's Lifecycle owns SIGINT/SIGTERM and stops the worker in its turn; by default the SDK
    // also catches them to shut workers down, which swallowed a signal that came during start-up.
    shutdownSignals: [],
    logger: new DefaultLogger(level, (entry) => sdk[levels[entry.level]](entry.meta ?? {}, entry.message)),
    // The Rust core's own logs too, instead of ANSI text on stderr.
    telemetryOptions: {
      logging: { filter: { core: level, other: level }, forward: {} },
      ...(metricsBind
        ? {
            metrics: {
              prometheus: {
                bindAddress: metricsBind,
                countersTotalSuffix: true,
                unitSuffix: true,
                useSecondsForDurations: true,
              },
            },
          }
        : {}),
    },
  });
}
