import type { HttpClient } from '../delivery/http';
import type { Logger } from '../logger';
import type { MetricsRecorder } from '../metrics';
import type { Publisher } from '../publish/publisher';
import type { Store } from '../store';
import type { BacklogLimits } from '../store/queues';
import { createDeliver } from './deliver';
import { createHandshakeActivities } from './handshake';
import { createPublishActivities, type EventParser } from './publish';
import { createSubscriberActivities } from './subscriber';

/** Everything activities need, made once at start-up and passed in (never built inside an activity). */
export interface ActivityDeps {
  logger: Logger;
  /** Injected clock, so tests can pin time. */
  clock: () => Date;
  store: Store;
  http: HttpClient;
  /** Hookline's version, for the user-agent. */
  version: string;
  /** Host of PUBLIC_BASE_URL, sent as WebHook-Request-Origin. */
  origin: string;
  /** PUBLIC_BASE_URL, for the handshake's callback URL. */
  publicBaseUrl: string;
  limits: BacklogLimits;
  /** The shared publish module, for the ingress workflow. */
  publisher: Publisher;
  /** Checks events of the ingress signal against the REST event schema. */
  parseEvents: EventParser;
  metrics: MetricsRecorder;
}

/** The activities of every Hookline workflow. Workflows use `proxyActivities<Activities>`. */
export function createActivities(deps: ActivityDeps) {
  return {
    deliverBatch: createDeliver(deps),
    ...createSubscriberActivities(deps),
    ...createHandshakeActivities(deps),
    ...createPublishActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
