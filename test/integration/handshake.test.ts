import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { HandshakeAnswer } from '../../src/activities/handshake';
import { confirmHandshake } from '../../src/api/routes/handshake-callback';
import type { Subscription } from '../../src/domain/types';
import { HANDSHAKE_WINDOW_MS } from '../../src/workflows/handshake';
import { handshakeWorkflowId } from '../../src/workflows/ids';
import { TestReceiver, type Answer } from '../support/receiver';
import { startSubscriberHarness, waitUntil, type SubscriberHarness } from '../support/subscriber';
import { createTimeSkippingEnv, testLogger } from '../support/temporal';

const MINUTE = 60_000;
const ORIGIN = 'hookline.test';

describe('the CloudEvents handshake, on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let h: SubscriberHarness;
  let receiver: TestReceiver;

  // A server of its own per test: time skipping is global to a server, and what one test left waiting
  // would hold the next one's clock.
  beforeEach(async () => {
    env = await createTimeSkippingEnv();
    h = await startSubscriberHarness({
      client: env.client,
      connection: env.nativeConnection,
      timeSkipping: true,
    });
    receiver = await TestReceiver.start(() => ({ status: 200 }));
  });
  afterEach(async () => {
    await h?.stop();
    await receiver?.close();
    await env?.teardown();
  });

  /** A subscription that requires the handshake, and its handshake's id and code (from the store). */
  async function register(url = receiver.url) {
    const sub = await h.subscribe({ url, requireValidation: true });
    const current = await h.store.subscriptions.currentHandshake(sub.id);
    const handle = env.client.workflow.getHandle(handshakeWorkflowId(sub.id, current!.handshake.id));
    await waitUntil(async () => (await handle.describe().catch(() => null)) !== null);
    return { sub, handle, code: current!.handshake.code };
  }

  /** What the callback route does with a code (the route's own function). */
  const confirm = (sub: Subscription, code: string) =>
    confirmHandshake(
      { store: h.store, client: env.client, subscribers: h.core.subscribers, logger: testLogger },
      sub.id,
      code,
    );

  const status = async (sub: Subscription) =>
    (await h.store.subscriptions.get(h.tenant, sub.id))?.status ?? 'deleted';

  /** The answers of the OPTIONS activity, from the handshake's history. */
  async function optionsAnswers(handle: WorkflowHandle): Promise<HandshakeAnswer[]> {
    const history = await handle.fetchHistory();
    return (history.events ?? []).flatMap((e) => {
      const payload = e.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
      return payload ? [defaultPayloadConverter.fromPayload<HandshakeAnswer>(payload)] : [];
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

  it('an endpoint that allows our origin in its OPTIONS answer is granted at once, and then gets its events', async () => {
    receiver.respond((req) => (req.method === 'OPTIONS' ? allowing(ORIGIN) : { status: 200 }));
    const { sub, handle, code } = await register();

    expect(await handle.result()).toBe('granted_sync');
    expect(await runTime(handle)).toBeLessThan(MINUTE);
    await waitUntil(async () => (await status(sub)) === 'active');
    const [req] = receiver.requests;
    expect(req!.method).toBe('OPTIONS');
    expect(req!.path).toBe('/hooks');
    expect(req!.headers['webhook-request-origin']).toBe(ORIGIN);
    expect(req!.headers['webhook-request-callback']).toBe(
      `http://${ORIGIN}/v1/validate/${sub.id}?code=${code}`,
    );
    await h.publish([
      {
        id: 'after-grant',
        type: 't',
        source: 's',
        subject: null,
        category: null,
        labels: {},
        time: new Date().toISOString(),
        data: 1,
      },
    ]);
    await receiver.waitFor((r) => r.some((x) => x.method === 'POST'));
    expect(receiver.requests.find((r) => r.method === 'POST')!.headers['webhook-request-origin']).toBe(
      ORIGIN,
    );
  });

  it('an endpoint that allows every origin (`*`), in any case, is granted at once', async () => {
    receiver.respond(() => allowing('*'));
    expect(await (await register()).handle.result()).toBe('granted_sync');
    receiver.respond(() => allowing(ORIGIN.toUpperCase()));
    expect(await (await register(`${receiver.url}/upper`)).handle.result()).toBe('granted_sync');
  });

  it('an endpoint that answers without an allowed origin and confirms after 4 minutes is granted by the callback', async () => {
    const { sub, handle, code } = await register();
    await env.sleep('4 minutes');
    expect(await confirm(sub, code)).toBe('active');
    expect(await status(sub)).toBe('active');
    expect(await handle.result()).toBe('granted_callback');
    const elapsed = await runTime(handle);
    expect(elapsed).toBeGreaterThanOrEqual(4 * MINUTE);
    expect(elapsed).toBeLessThan(HANDSHAKE_WINDOW_MS);
    expect(receiver.requests.map((r) => r.method)).toEqual(['OPTIONS']);
  });

  it('an allowed origin that names someone else grants nothing: the endpoint still has to confirm', async () => {
    receiver.respond(() => allowing('other.example'));
    const { sub, handle, code } = await register();
    await env.sleep('1 minute');
    expect(await status(sub)).toBe('pending_validation');
    await confirm(sub, code);
    expect(await handle.result()).toBe('granted_callback');
  });

  it('a confirmation with a wrong code is refused and changes nothing; the right code then grants', async () => {
    const { sub, handle, code } = await register();
    await env.sleep('2 minutes');
    expect(await confirm(sub, 'X'.repeat(32))).toBe('wrong');
    expect(await status(sub)).toBe('pending_validation');
    expect(await confirm(sub, code)).toBe('active');
    expect(await handle.result()).toBe('granted_callback');
  });

  it('without a confirmation the registration is deleted after 5 minutes, and before 6, and its URL is free', async () => {
    const started = await env.currentTimeMs();
    const { sub, handle } = await register();
    expect(await handle.result()).toBe('expired');
    const elapsed = (await env.currentTimeMs()) - started;
    expect(elapsed).toBeGreaterThanOrEqual(HANDSHAKE_WINDOW_MS);
    expect(elapsed).toBeLessThan(HANDSHAKE_WINDOW_MS + MINUTE);
    // Polled, not awaited: awaiting a result lets the test server skip ahead past the deletion.
    await waitUntil(async () => (await status(sub)) === 'deleted');
    await waitUntil(async () => (await h.handle(sub).describe()).status.name === 'COMPLETED');
    // The subscriber ended within the same minute, its handshake's too (workflow time, from histories).
    expect(await runTime(h.handle(sub))).toBeLessThan(HANDSHAKE_WINDOW_MS + MINUTE);
    expect(await runTime(handle)).toBeLessThan(HANDSHAKE_WINDOW_MS + MINUTE);
    expect(await h.store.subscriptions.idByUrl(h.tenant, sub.url)).toBeNull();
    expect(receiver.requests.map((r) => r.method)).toEqual(['OPTIONS']);
  });

  it('an endpoint that cannot be reached may still confirm through the callback', async () => {
    const closed = await TestReceiver.start();
    const url = closed.url;
    await closed.close();
    const { sub, handle, code } = await register(url);
    await env.sleep('1 minute');
    await confirm(sub, code);
    expect(await handle.result()).toBe('granted_callback');
    const answers = await optionsAnswers(handle);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ allowedOrigin: null, statusCode: null });
    expect(answers[0]!.error).toMatch(/^refused/);
  });

  it('an endpoint that confirms through the callback before answering the OPTIONS request is granted by the callback', async () => {
    let subscription: Subscription | null = null;
    receiver.respond(async (req) => {
      const callback = new URL(String(req.headers['webhook-request-callback']));
      await waitUntil(() => subscription !== null);
      await confirm(subscription!, callback.searchParams.get('code')!);
      return allowing(ORIGIN);
    });
    const sub = await h.subscribe({ url: receiver.url, requireValidation: true });
    subscription = sub;
    const current = await h.store.subscriptions.currentHandshake(sub.id);
    const handle = env.client.workflow.getHandle(handshakeWorkflowId(sub.id, current!.handshake.id));
    await waitUntil(async () => (await handle.describe().catch(() => null)) !== null);
    expect(await handle.result()).toBe('granted_callback');
    expect(receiver.requests).toHaveLength(1);
    // The workflow did not wait for the OPTIONS answer.
    expect(await optionsAnswers(handle)).toEqual([]);
  });

  it('a new URL sends it back to pending_validation; nothing reaches the new URL before it grants', async () => {
    receiver.respond((req) =>
      req.method === 'OPTIONS' && req.path === '/hooks' ? allowing(ORIGIN) : { status: 200 },
    );
    const { sub, handle } = await register();
    expect(await handle.result()).toBe('granted_sync');
    await waitUntil(async () => (await status(sub)) === 'active');
    const patched = await h.core.subscriptions.patch(
      h.tenant,
      sub.id,
      { url: `${receiver.url}/victim` },
      undefined,
    );
    expect(patched.status).toBe('pending_validation');
    await h.publish([
      {
        id: 'after-move',
        type: 't',
        source: 's',
        subject: null,
        category: null,
        labels: {},
        time: new Date().toISOString(),
        data: 1,
      },
    ]);
    const next = await h.store.subscriptions.currentHandshake(sub.id);
    const second = env.client.workflow.getHandle(handshakeWorkflowId(sub.id, next!.handshake.id));
    await waitUntil(async () => (await second.describe().catch(() => null)) !== null);
    // /victim never grants: after 5 minutes the registration is gone, and it got only the OPTIONS.
    expect(await second.result()).toBe('expired');
    await h.handle(sub).result();
    const atVictim = receiver.requests.filter((r) => r.path === '/hooks/victim');
    expect(atVictim.map((r) => r.method)).toEqual(['OPTIONS']);
  });
});
