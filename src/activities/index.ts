import type { Logger } from '../logger';

/** Everything activities need, made once at start-up and passed in (never built inside an activity). */
export interface ActivityDeps {
  logger: Logger;
  /** Injected clock, so tests can pin time. */
  clock: () => Date;
}

/** The activities of every Hookline workflow. Workflows use `proxyActivities<Activities>`. */
export function createActivities(deps: ActivityDeps) {
  return {
    /** Liveness probe of the worker, used by tests of the harness and by `/readyz` in API-only mode. */
    // eslint-disable-next-line @typescript-eslint/require-await
    async ping(message: string): Promise<string> {
      deps.logger.debug({ message }, 'ping');
      return `pong: ${message} at ${deps.clock().toISOString()}`;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
