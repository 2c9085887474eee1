import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stdout. Secrets never reach them: the redact paths cover API keys,
 * signing secrets and authorization headers wherever they appear in a logged object.
 */
export function createLogger(level: string, name = 'hookline'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'secret',
        '*.secret',
        'secrets',
        '*.secrets',
        'apiKey',
        '*.apiKey',
        'headers.authorization',
        '*.headers.authorization',
        'req.headers.authorization',
      ],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
