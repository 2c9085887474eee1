import { TestReceiver } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/app';

describe('the validation handshake through the API', () => {
  let app: TestApp;
  let receiver: TestReceiver;
  beforeAll(async () => {
    app = await startTestApp();
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  async function waitForStatus(id: string, status: string) {
    for (let i = 0; i < 50; i++) {
      const res = await app.call('GET', `/v1/subscriptions/${id}`);
      if (res.body.status === status) return res.body;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`subscription ${id} did not become ${status}`);
  }

  it('turns active at once when the OPTIONS answer allows the origin', async () => {
    receiver.respond((req) =>
      req.method === 'OPTIONS'
        ? { status: 200, headers: { 'webhook-allowed-origin': '127.0.0.1:9' } }
        : { status: 200 },
    );
    const res = await app.call('POST', '/v1/subscriptions', {
      body: { url: `${receiver.url}/sync`, eventTypes: ['*'], requireValidation: true },
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('pending_validation');
    await waitForStatus(res.body.id, 'active');
    const options = receiver.requests.find((r) => r.method === 'OPTIONS' && r.path === '/hooks/sync')!;
    expect(options.headers['webhook-request-origin']).toBe('127.0.0.1:9');
    expect(options.headers['webhook-request-callback']).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:9/v1/validate/${res.body.id}\\?code=[A-Za-z0-9]{32}$`),
    );
  });

  it('a wrong code answers 403 and changes nothing; the right code answers 200 and activates', async () => {
    receiver.respond(() => ({ status: 200 }));
    const res = await app.call('POST', '/v1/subscriptions', {
      body: { url: `${receiver.url}/async`, eventTypes: ['*'], requireValidation: true },
    });
    await receiver.waitFor((r) => r.some((x) => x.method === 'OPTIONS' && x.path === '/hooks/async'));
    const callback = receiver.requests.find((r) => r.path === '/hooks/async')!.headers[
      'webhook-request-callback'
    ] as string;
    const path = new URL(callback).pathname;
    const code = new URL(callback).searchParams.get('code')!;
    const wrong = await app.call('GET', `${path}?code=${'A'.repeat(32)}`, { key: null });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('forbidden');
    expect((await app.call('GET', `/v1/subscriptions/${res.body.id}`)).body.status).toBe(
      'pending_validation',
    );
    const right = await app.call('POST', `${path}?code=${code}`, { key: null });
    expect(right.status).toBe(200);
    await waitForStatus(res.body.id, 'active');
    // Once granted, the right code confirms again harmlessly; a wrong one is still refused.
    expect((await app.call('GET', `${path}?code=${code}`, { key: null })).status).toBe(200);
    expect((await app.call('GET', `${path}?code=${'B'.repeat(32)}`, { key: null })).status).toBe(403);
    // Events sent while pending were queued, and go out once active.
    await app.call('POST', '/v1/events', { body: { id: 'after-validation', type: 'x', data: {} } });
    const isDelivery = (x: { method: string; path: string; body: string }) =>
      x.method === 'POST' && x.path === '/hooks/async' && x.body.includes('after-validation');
    await receiver.waitFor((r) => r.some(isDelivery));
    const delivery = receiver.requests.find(isDelivery)!;
    expect(delivery.headers['webhook-request-origin']).toBe('127.0.0.1:9');
  });
});
