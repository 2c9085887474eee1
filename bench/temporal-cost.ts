/**
 * What delivering costs Temporal, counted from the run:
 * - server calls: the frontend's `service_requests` counter (per operation) from the server's own
 *   Prometheus endpoint, before and after a case (every client and worker of the run counts, polls
 *   included);
 * - history events: the history length of every run (continue-as-new included) of the workflows
 *   tagged with a tenant (`HooklineTenant`): closed runs from visibility, open ones by describe.
 */
import type { Client } from '@temporalio/client';
import { request } from 'undici';
import { SA } from '../src/temporal/search-attributes';
import { listeningPorts } from './proc';

/** Frontend requests so far, per operation. */
export type CallCounts = Record<string, number>;

export async function scrapeCalls(metricsUrl: string): Promise<CallCounts> {
  const res = await request(metricsUrl);
  const text = await res.body.text();
  const out: CallCounts = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('service_requests{')) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    if (!/service_name="frontend"/.test(labels)) continue;
    const op = /operation="([^"]+)"/.exec(labels)?.[1] ?? 'unknown';
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) out[op] = (out[op] ?? 0) + value;
  }
  return out;
}

/** `after - before`, operations with no change left out, largest first. */
export function callDelta(before: CallCounts, after: CallCounts): CallCounts {
  return Object.fromEntries(
    Object.entries(after)
      .map(([op, n]) => [op, n - (before[op] ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1]),
  );
}

/**
 * Left out of the cost: long polls (a worker's idle wait, one per task it is given), and what the bench
 * itself asks (visibility, describe, history reads to count the history events).
 */
export const NOT_COST = new Set([
  'PollWorkflowTaskQueue',
  'PollActivityTaskQueue',
  'PollNexusTaskQueue',
  'DescribeWorkflowExecution',
  'ListWorkflowExecutions',
  'CountWorkflowExecutions',
  'GetWorkflowExecutionHistory',
  'GetWorkflowExecutionHistoryReverse',
  'PollWorkflowExecutionHistory',
  'ShutdownWorker',
  'GetSystemInfo',
]);

export function sumCalls(counts: CallCounts, exclude: Set<string> = new Set()): number {
  return Object.entries(counts).reduce((sum, [op, n]) => (exclude.has(op) ? sum : sum + n), 0);
}

/**
 * The dev server serves /metrics on a port it picks itself: the one of its listening ports that
 * answers /metrics with `service_requests`.
 */
export async function findMetricsUrl(pid: number): Promise<string | null> {
  for (const port of listeningPorts(pid)) {
    const url = `http://127.0.0.1:${port}/metrics`;
    try {
      const res = await request(url, { headersTimeout: 2_000, bodyTimeout: 2_000 });
      const text = await res.body.text();
      if (res.statusCode === 200 && text.includes('service_requests')) return url;
    } catch {
      // gRPC or the UI: not it
    }
  }
  return null;
}

/** Percentiles (p0, p50, p90, p100) of ms values. */
function spread(values: number[]): { p0: number; p50: number; p90: number; p100: number } | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => Math.round(v[Math.min(v.length - 1, Math.floor(q * v.length))]!);
  return { p0: at(0), p50: at(0.5), p90: at(0.9), p100: Math.round(v[v.length - 1]!) };
}

/**
 * Where a fan-out's time went, from the histories of its subscribers' current runs: per workflow,
 * when the wake signal reached the server after `sentAt` (the publish), and how long from that signal
 * to its delivery activity being scheduled, picked up by a worker, and completed. ms, as spreads over
 * the workflows. The signal's spread is the publisher's side; signal→scheduled is workflow tasks
 * waiting for the worker; scheduled→started is activities waiting for a worker slot or poll.
 */
export async function fanoutTimeline(
  client: Client,
  workflowIds: string[],
  sentAt: number,
): Promise<Record<string, ReturnType<typeof spread>>> {
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
    t ? Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6 : NaN;
  const signaled: number[] = [];
  const toScheduled: number[] = [];
  const toStarted: number[] = [];
  const running: number[] = [];
  let next = 0;
  const lane = async () => {
    while (next < workflowIds.length) {
      const id = workflowIds[next++]!;
      const history = await client.workflow.getHandle(id).fetchHistory();
      const events = history.events ?? [];
      const signal = events.find(
        (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'wake' && ms(e.eventTime) >= sentAt,
      );
      if (!signal) continue;
      const s = ms(signal.eventTime);
      const after = events.filter((e) => ms(e.eventTime) >= s);
      const scheduled = after.find(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'deliverBatch',
      );
      const sid = scheduled?.eventId;
      const started = after.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.equals(sid!));
      const completed = after.find((e) =>
        e.activityTaskCompletedEventAttributes?.scheduledEventId?.equals(sid!),
      );
      signaled.push(s - sentAt);
      if (scheduled) toScheduled.push(ms(scheduled.eventTime) - s);
      if (scheduled && started) toStarted.push(ms(started.eventTime) - ms(scheduled.eventTime));
      if (started && completed) running.push(ms(completed.eventTime) - ms(started.eventTime));
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
  return {
    signalAfterPublish: spread(signaled),
    signalToActivityScheduled: spread(toScheduled),
    scheduledToStarted: spread(toStarted),
    activityRunning: spread(running),
  };
}

/**
 * A subscriber's delivery cycle, from its history between `fromMs` and `toMs` (server clock): per
 * deliverBatch activity, scheduled→started (waiting for a worker), started→completed (load, sign,
 * POST, record), and completed→the next one scheduled (the workflow task in between). One batch is in
 * flight per subscription, so an event that arrives during a cycle waits for it: the cycle bounds the
 * publish→receipt latency from below. ms, as spreads over every activity of every workflow.
 */
export async function deliveryCycle(
  client: Client,
  workflowIds: string[],
  fromMs: number,
  toMs: number,
): Promise<Record<string, ReturnType<typeof spread>>> {
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
    t ? Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6 : NaN;
  const waiting: number[] = [];
  const running: number[] = [];
  const between: number[] = [];
  for (const id of workflowIds) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    const scheduled = new Map<string, number>();
    const started = new Map<string, number>();
    let lastCompleted: number | null = null;
    for (const e of history.events ?? []) {
      const t = ms(e.eventTime);
      if (t < fromMs || t > toMs) continue;
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'deliverBatch') {
        scheduled.set(String(e.eventId), t);
        if (lastCompleted !== null) between.push(t - lastCompleted);
      }
      const s = e.activityTaskStartedEventAttributes?.scheduledEventId;
      if (s && scheduled.has(String(s))) {
        started.set(String(s), t);
        waiting.push(t - scheduled.get(String(s))!);
      }
      const c = e.activityTaskCompletedEventAttributes?.scheduledEventId;
      if (c && started.has(String(c))) {
        running.push(t - started.get(String(c))!);
        lastCompleted = t;
      }
    }
  }
  return {
    scheduledToStarted: spread(waiting),
    startedToCompleted: spread(running),
    completedToNextScheduled: spread(between),
  };
}

/** Sum of history events over every run of every workflow of `tenant`. */
export async function historyEvents(
  client: Client,
  tenant: string,
): Promise<{ runs: number; events: number }> {
  let runs = 0;
  let events = 0;
  const open: { workflowId: string; runId: string }[] = [];
  for await (const wf of client.workflow.list({ query: `${SA.tenant.name} = '${tenant}'` })) {
    runs++;
    if (wf.status.name === 'RUNNING') open.push({ workflowId: wf.workflowId, runId: wf.runId });
    else events += wf.historyLength;
  }
  // Visibility's length of an open run is stale: ask for it.
  let next = 0;
  const lane = async () => {
    while (next < open.length) {
      const { workflowId, runId } = open[next++]!;
      const d = await client.workflow.getHandle(workflowId, runId).describe();
      events += d.historyLength;
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, open.length) }, lane));
  return { runs, events };
}
