import { pingWorkflow } from '../../src/workflows';
import {
  connectDevServer,
  startTestWorker,
  uniqueTaskQueue,
  type DevServerHarness,
} from '../support/temporal';

describe('the dev server harness', () => {
  let temporal: DevServerHarness;
  beforeAll(async () => {
    temporal = await connectDevServer();
  });
  afterAll(async () => {
    await temporal.close();
  });

  it('runs a workflow whose activity executes on a real worker', async () => {
    const taskQueue = uniqueTaskQueue();
    const worker = await startTestWorker(taskQueue);
    try {
      const result = await temporal.client.workflow.execute(pingWorkflow, {
        taskQueue,
        workflowId: `ping-${taskQueue}`,
        args: ['hello'],
      });
      expect(result).toMatch(/^pong: hello at \d{4}-\d\d-\d\dT/);
      const history = await temporal.client.workflow.getHandle(`ping-${taskQueue}`).fetchHistory();
      const types = (history.events ?? []).map((e) => e.activityTaskCompletedEventAttributes).filter(Boolean);
      expect(types).toHaveLength(1);
    } finally {
      await worker.stop();
    }
  });

  it('registers the custom search attributes on the namespace', async () => {
    const res = await temporal.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(res.customAttributes ?? {})).toEqual(
      expect.arrayContaining(['HooklineTenant', 'HooklineStatus', 'HooklineSubscriptionId']),
    );
  });
});
