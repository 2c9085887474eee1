/**
 * Ceiling (b): the raw signal rate of the same Temporal server, to one workflow and spread over 100,
 * with 32 signals outstanding from one client. The workflows (bench/workflows.ts) run on their own
 * worker process and task queue (started for this scenario only) and only count what they get; each is
 * then stopped and its count checked.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { nowMs } from '../receiver';
import { describeError, log, pool, sleep, type BenchEnv, type CaseResult, type Scenario } from '../support';
import { pingSignal, signalSinkWorkflow, stopSignal } from '../workflows';

/** Signals outstanding at once from the client. */
const CONCURRENCY = 32;

export const signalCeiling: Scenario = async ({ env, quick }) => {
  // One workflow takes every signal: stay under the server's 10,000 signals per execution
  // (history.maximumSignalsPerExecution) and far under the 51,200-event history limit.
  const total = quick ? 500 : 3_000;
  const results: CaseResult[] = [];
  const sink = await env.startSink();
  try {
    for (const workflows of [1, 100]) {
      results.push(await runCase(env, sink.taskQueue, workflows, total));
    }
  } finally {
    await sink.stop();
  }
  return results;
};

async function runCase(
  env: BenchEnv,
  taskQueue: string,
  workflows: number,
  total: number,
): Promise<CaseResult> {
  const label = `${total} signals → ${workflows} workflow${workflows === 1 ? '' : 's'}`;
  log(`signal-ceiling: ${label}`);
  const tag = `bench_sig${workflows}_${Date.now().toString(36)}`;
  const handles = await Promise.all(
    Array.from({ length: workflows }, (_, i) =>
      env.client.workflow.start(signalSinkWorkflow, {
        taskQueue,
        workflowId: `${tag}_${i}`,
      }),
    ),
  );
  let received = 0;
  try {
    await untilStarted(handles);
    const { value: elapsedMs, resources } = await env.measure(async () => {
      const startedAt = nowMs();
      await pool(
        Array.from({ length: total }, (_, n) => n),
        CONCURRENCY,
        (n) => handles[n % workflows]!.signal(pingSignal, { n }),
      );
      return nowMs() - startedAt;
    });
    await pool(handles, 20, async (handle) => {
      await handle.signal(stopSignal);
      const count = await handle.result();
      received += count;
    });
    return {
      scenario: 'signal-ceiling',
      case: label,
      params: { workflows, signals: total, concurrency: CONCURRENCY },
      opsPerSec: Math.round((total / elapsedMs) * 1000),
      wallSec: Math.round(elapsedMs / 100) / 10,
      resources,
      extra: { received, allReceived: received === total },
    };
  } finally {
    // Anything not stopped above (a failure half-way) is terminated.
    await pool(handles, 20, async (handle) => {
      try {
        const { status } = await handle.describe();
        if (status.name === 'RUNNING') await handle.terminate('benchmark over');
      } catch (err) {
        log(`could not terminate ${handle.workflowId}: ${describeError(err)}`);
      }
    });
  }
}

/**
 * Waits until every workflow has completed its first workflow task (4 history events: started, task
 * scheduled, started, completed), so that start-up is not in the measured window.
 */
async function untilStarted(handles: WorkflowHandle[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  await pool(handles, 20, async (handle) => {
    while ((await handle.describe()).historyLength < 4) {
      if (Date.now() > deadline) throw new Error(`${handle.workflowId} did not start within 60 s`);
      await sleep(50);
    }
  });
}
