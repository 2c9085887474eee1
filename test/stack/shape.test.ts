import { api } from '../faults/support/service';
import { readStackEnv, stackUp } from '../support/stack';
import { hooklinePid, stackHookline } from './support/stack-api';

/** The shape `stack.sh up` runs: two API processes and two worker processes, each its own. */
describe('stack: the production shape', () => {
  beforeAll(() => stackUp({ quiet: true }));

  it('runs two APIs and two workers as four processes; the workers serve /metrics', async () => {
    const pids = ['hookline-api-1', 'hookline-api-2', 'hookline-worker-1', 'hookline-worker-2'].map(
      hooklinePid,
    );
    expect(new Set(pids).size).toBe(4);
    const { urls } = stackHookline();
    expect(new Set(urls).size).toBe(2);
    for (const url of urls) expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const metrics = (readStackEnv().HOOKLINE_WORKER_METRICS_URLS ?? '').split(',');
    expect(metrics).toHaveLength(2);
    for (const url of metrics) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^hookline_/m);
    }
  });

  it('what one API process registers, the other serves: both work on the one store', async () => {
    const { urls, key } = stackHookline();
    const made = await api(urls[0]!, key, 'POST', '/v1/subscriptions', {
      url: 'http://127.0.0.1:9/shape',
      eventTypes: ['shape.none'],
      description: 'test:stack',
    });
    expect(made.status).toBe(201);
    try {
      const got = await api(urls[1]!, key, 'GET', `/v1/subscriptions/${made.body.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id: made.body.id, url: 'http://127.0.0.1:9/shape' });
      // The same URL through the other API is a conflict: one unique index for both.
      const again = await api(urls[1]!, key, 'POST', '/v1/subscriptions', {
        url: 'http://127.0.0.1:9/shape',
        eventTypes: ['shape.none'],
      });
      expect(again.status).toBe(409);
    } finally {
      expect((await api(urls[1]!, key, 'DELETE', `/v1/subscriptions/${made.body.id}`)).status).toBe(204);
    }
  });
});
