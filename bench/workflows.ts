/**
 * Workflows used only by the benchmark, bundled on their own for a second worker on its own task
 * queue (never part of src/workflows). Workflow sandbox rules apply: `@temporalio/workflow` only.
 */
import { condition, defineSignal, setHandler } from '@temporalio/workflow';

/** A signal that carries nothing the workflow looks at: the raw signal rate of the server. */
export const pingSignal = defineSignal<[{ n: number }]>('ping');
/** Ends a sink workflow; its result is how many pings it saw. */
export const stopSignal = defineSignal('stop');

/**
 * A trivial long-running workflow that ignores what signals carry. It only counts them, so the
 * benchmark can check that none went missing.
 */
export async function signalSinkWorkflow(): Promise<number> {
  let received = 0;
  let stopped = false;
  setHandler(pingSignal, () => {
    received++;
  });
  setHandler(stopSignal, () => {
    stopped = true;
  });
  await condition(() => stopped);
  return received;
}
