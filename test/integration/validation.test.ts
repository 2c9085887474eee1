import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ValidationAnswer } from '../../src/activities/validate';
import type { WorkerHandle } from '../../src/worker';
import { confirmValidationUpdate, type ValidationInput } from '../../src/workflows/messages';
import {
  VALIDATION_WINDOW_MS,
  validationWorkflow,
  validationWorkflowId,
} from '../../src/workflows/validation';
import { TestReceiver, type Answer } from '../support/receiver';
import { createTimeSkippingEnv, startTestWorker, uniqueTaskQueue } from '../support/temporal';

const MINUTE = 60_000;
const ORIGIN = 'hookline.test';
const CODE = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';

describe('the validation handshake, on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let worker: WorkerHandle;
  let receiver: TestReceiver;
  let taskQueue: string;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  beforeEach(async () => {
    taskQueue = uniqueTaskQueue('validate');
    worker = await startTestWorker(taskQueue, { connection: env.nativeConnection, address: undefined });
    receiver = await TestReceiver.start(() => ({ status: 200 }));
  });
  afterEach(async () => {
    await worker.stop();
    await receiver.close();
  });

  function validationInput(url: string): ValidationInput {
    const subscriptionId = `sub_${randomUUID().replace(/-/g, '')}`;
    return {
      subscriptionId,
      url,
      origin: ORIGIN,
      callbackUrl: `https://${ORIGIN}/v1/validate/${subscriptionId}?code=${CODE}`,
      code: CODE,
    };
  }

  async function startValidation(url = receiver.url): Promise<WorkflowHandle<typeof validationWorkflow>> {
    const input = validationInput(url);
    return env.client.workflow.start(validationWorkflow, {
      taskQueue,
      workflowId: validationWorkflowId(input.subscriptionId),
      // The time-skipping server otherwise ends the workflow at its default execution timeout.
      workflowExecutionTimeout: '1 day',
      args: [input],
    });
  }

  const confirm = (handle: WorkflowHandle, code: string) =>
    handle.executeUpdate(confirmValidationUpdate, { args: [{ code }] });

  /** The answers of the OPTIONS activity, from the workflow's history. */
  async function optionsAnswers(handle: WorkflowHandle): Promise<ValidationAnswer[]> {
    const history = await handle.fetchHistory();
    return (history.events ?? []).flatMap((e) => {
      const payload = e.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
      return payload ? [defaultPayloadConverter.fromPayload<ValidationAnswer>(payload)] : [];
    });
  }

  /** ms of workflow time from the workflow's start to its close, from its history. */
  async function runTime(handle: WorkflowHandle): Promise<number> {
    const events = (await handle.fetchHistory()).events ?? [];
    const ms = (e: (typeof events)[number] | undefined) => {
      const t = e?.eventTime;
      return Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
    };
    return ms(events.at(-1)) - ms(events[0]);
  }

  const allowing = (origin: string): Answer => ({
    status: 200,
    headers: { 'WebHook-Allowed-Origin': origin },
  });

  it('an endpoint that allows our origin in its OPTIONS answer is granted at once', async () => {
    receiver.respond(() => allowing(ORIGIN));
    const handle = await startValidation();

    expect(await handle.result()).toBe('granted_sync');
    expect(await runTime(handle)).toBeLessThan(MINUTE);
    expect(receiver.requests).toHaveLength(1);
    const [req] = receiver.requests;
    expect(req!.method).toBe('OPTIONS');
    expect(req!.path).toBe('/hooks');
    expect(req!.headers['webhook-request-origin']).toBe(ORIGIN);
    expect(req!.headers['webhook-request-callback']).toBe(
      `https://${ORIGIN}/v1/validate/${handle.workflowId.replace('hookline-validate-', '')}?code=${CODE}`,
    );
  });

  it('an endpoint that allows every origin (`*`) is granted at once', async () => {
    receiver.respond(() => allowing('*'));
    const handle = await startValidation();

    expect(await handle.result()).toBe('granted_sync');
  });

  it('the allowed origin is compared without regard to case', async () => {
    receiver.respond(() => allowing(ORIGIN.toUpperCase()));
    const handle = await startValidation();

    expect(await handle.result()).toBe('granted_sync');
  });

  it('an endpoint that answers without an allowed origin and confirms after 4 minutes is granted by the callback', async () => {
    const handle = await startValidation();

    await env.sleep('4 minutes');
    expect(await confirm(handle, CODE)).toEqual({ status: 'granted' });

    expect(await handle.result()).toBe('granted_callback');
    const elapsed = await runTime(handle);
    expect(elapsed).toBeGreaterThanOrEqual(4 * MINUTE);
    expect(elapsed).toBeLessThan(VALIDATION_WINDOW_MS);
    expect(receiver.requests.map((r) => r.method)).toEqual(['OPTIONS']);
  });

  it('an allowed origin that names someone else grants nothing: the endpoint still has to confirm', async () => {
    receiver.respond(() => allowing('other.example'));
    const handle = await startValidation();

    await env.sleep('1 minute');
    await confirm(handle, CODE);

    expect(await handle.result()).toBe('granted_callback');
  });

  it('a confirmation with a wrong code is refused and changes nothing; the right code then grants', async () => {
    const handle = await startValidation();

    await env.sleep('2 minutes');
    const refused = await confirm(handle, 'X'.repeat(32)).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (refused as WorkflowUpdateFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('WrongCode');
    // Refused by the validator: nothing of it is written to the history.
    const history = await handle.fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toBe(false);

    await confirm(handle, CODE);
    expect(await handle.result()).toBe('granted_callback');
  });

  it('without a confirmation the handshake expires 5 minutes after it started', async () => {
    const started = await env.currentTimeMs();
    const handle = await startValidation();

    expect(await handle.result()).toBe('expired');
    expect((await env.currentTimeMs()) - started).toBeGreaterThanOrEqual(VALIDATION_WINDOW_MS);
    const elapsed = await runTime(handle);
    expect(elapsed).toBeGreaterThanOrEqual(VALIDATION_WINDOW_MS);
    expect(elapsed).toBeLessThan(VALIDATION_WINDOW_MS + MINUTE);
    expect(receiver.requests.map((r) => r.method)).toEqual(['OPTIONS']);
  });

  it('an endpoint that cannot be reached may still confirm through the callback', async () => {
    const closed = await TestReceiver.start();
    const url = closed.url;
    await closed.close();
    const handle = await startValidation(url);

    await env.sleep('1 minute');
    await confirm(handle, CODE);

    expect(await handle.result()).toBe('granted_callback');
    const answers = await optionsAnswers(handle);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ allowedOrigin: null, statusCode: null });
    expect(answers[0]!.error).toMatch(/^refused/);
  });

  it('an endpoint that confirms through the callback before answering the OPTIONS request is granted by the callback', async () => {
    receiver.respond(async (req) => {
      const callback = new URL(String(req.headers['webhook-request-callback']));
      const subscriptionId = callback.pathname.split('/').at(-1)!;
      const handle = env.client.workflow.getHandle(validationWorkflowId(subscriptionId));
      await confirm(handle, callback.searchParams.get('code')!);
      return allowing(ORIGIN);
    });
    const handle = await startValidation();

    expect(await handle.result()).toBe('granted_callback');
    expect(receiver.requests).toHaveLength(1);
    // The workflow did not wait for the OPTIONS answer.
    expect(await optionsAnswers(handle)).toEqual([]);
  });
});
