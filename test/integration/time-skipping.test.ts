import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { pingWorkflow } from '../../src/workflows';
import { createTimeSkippingEnv, startTestWorker, uniqueTaskQueue } from '../support/temporal';

describe('the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('fires a timer of three days within the test timeout', async () => {
    const taskQueue = uniqueTaskQueue();
    const worker = await startTestWorker(taskQueue, { connection: env.nativeConnection, address: undefined });
    try {
      const threeDaysMs = 3 * 24 * 3600 * 1000;
      const before = await env.currentTimeMs();
      const result = await env.client.workflow.execute(pingWorkflow, {
        taskQueue,
        workflowId: `ping-${taskQueue}`,
        args: ['later', threeDaysMs],
      });
      const after = await env.currentTimeMs();
      expect(result).toMatch(/^pong: later/);
      expect(after - before).toBeGreaterThanOrEqual(threeDaysMs);
    } finally {
      await worker.stop();
    }
  });
});
