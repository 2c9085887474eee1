import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { ping } = proxyActivities<Activities>({ startToCloseTimeout: '10 seconds' });

/**
 * Round trip through the worker: optionally waits (`delayMs`, workflow time), then runs one activity.
 * Used to check that a worker is polling and that timers fire.
 */
export async function pingWorkflow(message: string, delayMs = 0): Promise<string> {
  if (delayMs > 0) await sleep(delayMs);
  return ping(message);
}
