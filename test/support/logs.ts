import pino from 'pino';
import type { Logger } from '../../src/logger';

/** One pino line as an object: `level` is pino's number (40 warn, 50 error). */
export type LogRecord = { level: number; msg?: string } & Record<string, unknown>;

/** A logger at every level whose lines a test reads back from `records`. */
export function capturingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => records.push(JSON.parse(line)) });
  return { logger, records };
}

/** pino's level number for `warn`: a record above it is an error or worse. */
export const WARN = 40;
