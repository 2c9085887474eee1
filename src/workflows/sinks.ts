/**
 * Sinks: how workflow code hands metrics to the worker process. A sink call makes no command and
 * returns nothing to the workflow, so it cannot change a history; the worker runs it after the
 * activation, and (with `callDuringReplay` left false) not while the workflow replays history, so a
 * worker restart or cache eviction does not count the same dead letter twice.
 * Hazard: a workflow task that fails and is retried runs its sink calls again (the SDK's stated
 * limit); counts from here are "at least once", which is why only rare events and gauges use them.
 */
import { proxySinks, type Sinks } from '@temporalio/workflow';

export interface HooklineSinks extends Sinks {
  metrics: {
    /** `count` events of one batch became dead letters (retry window over). */
    deadLettered(count: number): void;
    /** The subscription now holds `events` queued events (pending + in flight); null once deleted. */
    backlog(subscriptionId: string, events: number | null): void;
  };
}

/** The workflow end of the sinks. Safe at module scope: each call looks up the running workflow. */
export const sinks = proxySinks<HooklineSinks>();
