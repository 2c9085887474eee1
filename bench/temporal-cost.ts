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

/** Long polls: a worker's idle wait, not work asked of the server by an event. */
export const POLLS = new Set(['PollWorkflowTaskQueue', 'PollActivityTaskQueue', 'PollNexusTaskQueue']);

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
