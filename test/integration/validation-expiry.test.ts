import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkerHandle } from '../../src/worker';
import { subscriberWorkflowId, tenantWorkflowId } from '../../src/workflows/ids';
import { lookupUrlQuery, registerUpdate, routesQuery } from '../../src/workflows/messages';
import { tenantWorkflow } from '../../src/workflows/tenant';
import { TestReceiver } from '../support/receiver';
import { makeSubscription } from '../support/subscriber';
import { createTimeSkippingEnv, startTestWorker, uniqueTaskQueue } from '../support/temporal';

describe('a validation that is not confirmed within 5 minutes', () => {
  let env: TestWorkflowEnvironment;
  let worker: WorkerHandle;
  let receiver: TestReceiver;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    receiver = await TestReceiver.start(() => ({ status: 200 }));
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await env?.teardown();
  });

  it('deletes the registration and frees its URL', async () => {
    const taskQueue = uniqueTaskQueue('expiry');
    worker = await startTestWorker(taskQueue, { connection: env.nativeConnection, address: undefined });
    const tenant = await env.client.workflow.start(tenantWorkflow, {
      taskQueue,
      workflowId: tenantWorkflowId('expiry'),
      workflowExecutionTimeout: '365 days',
      args: [{ tenant: 'expiry', maxSubscriptions: 10, indexed: false }],
    });
    const start = await env.currentTimeMs();
    const sub = makeSubscription({
      tenant: 'expiry',
      url: receiver.url,
      status: 'pending_validation',
      requireValidation: true,
    });
    await tenant.executeUpdate(registerUpdate, {
      args: [
        {
          subscription: sub,
          secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          limits: { maxEvents: 10, maxBytes: 100_000 },
          taskQueue,
          validation: {
            origin: 'hookline.test',
            code: 'a'.repeat(32),
            callbackUrl: 'http://hookline.test/cb',
          },
        },
      ],
    });
    expect(await tenant.query(lookupUrlQuery, receiver.url)).toBe(sub.id);
    // Waiting on the subscriber's result lets the server skip the 5 minutes.
    await env.client.workflow.getHandle(subscriberWorkflowId(sub.id)).result();
    expect((await env.currentTimeMs()) - start).toBeGreaterThanOrEqual(5 * 60_000);
    for (let i = 0; i < 50 && (await tenant.query(lookupUrlQuery, receiver.url)) !== null; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await tenant.query(lookupUrlQuery, receiver.url)).toBeNull();
    expect((await tenant.query(routesQuery)).entries).toEqual([]);
    expect(receiver.requests.filter((r) => r.method === 'OPTIONS')).toHaveLength(1);
  });
});
