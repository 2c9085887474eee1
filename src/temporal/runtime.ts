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
 * worker or NativeConnection is made.
 */
export function installRuntime(logger: Logger, level: LogLevel = 'WARN'): void {
  const sdk = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => sdk[levels[entry.level]](entry.meta ?? {}, entry.message)),
    // The Rust core's own logs too, instead of ANSI text on stderr.
    telemetryOptions: { logging: { filter: { core: level, other: level }, forward: {} } },
  });
}
