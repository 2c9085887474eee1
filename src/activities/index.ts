import type { HttpClient } from '../delivery/http';
import type { Logger } from '../logger';
import { NO_METRICS, type MetricsRecorder } from '../metrics';
import type { Publisher } from '../publish/publisher';
import { createDeliver } from './deliver';
import { withDeliveryMetrics } from './instrument';
import { createPublishActivities, type EventValidator } from './publish';
import { createValidationActivities } from './validate';

/** Everything activities need, made once at start-up and passed in (never built inside an activity). */
export interface ActivityDeps {
  logger: Logger;
  /** Injected clock, so tests can pin time. */
  clock: () => Date;
  http: HttpClient;
  /** Hookline's version, for the user-agent. */
  version: string;
  /** Host of PUBLIC_BASE_URL, sent as WebHook-Request-Origin. */
  origin: string;
  /** The shared publish module, for the tenant workflow's ingress. */
  publisher?: Publisher;
  /** Checks events of the ingress signal against the REST event schema. */
  validateEvents: EventValidator;
  /** Where delivery and publish counts go; absent: nothing is recorded. */
  metrics?: MetricsRecorder;
}

/** The activities of every Hookline workflow. Workflows use `proxyActivities<Activities>`. */
export function createActivities(deps: ActivityDeps) {
  return {
    deliver: withDeliveryMetrics(createDeliver(deps), deps.metrics ?? NO_METRICS),
    ...createValidationActivities(deps),
    ...createPublishActivities(deps, deps.validateEvents),

    /** Liveness probe of the worker, used by tests of the harness. */
    // eslint-disable-next-line @typescript-eslint/require-await
    async ping(message: string): Promise<string> {
      deps.logger.debug({ message }, 'ping');
      return `pong: ${message} at ${deps.clock().toISOString()}`;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
