/**
 * The deliveries log (`GET /v1/subscriptions/{id}/deliveries?limit=&cursor=&outcome=`): every attempt,
 * newest first, paged by an opaque cursor; no attempt is repeated or skipped across pages, even while
 * new attempts arrive; the outcome filter pages the same way; a cursor that is not ours answers 400.
 */
import { TestReceiver } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/app';
import { waitUntil } from '../support/subscriber';

interface Attempt {
  msgId: string;
  eventIds: string[];
  attempt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: string;
}

describe('paging the deliveries log', () => {
  let app: TestApp;
  let receiver: TestReceiver;
  let sub: string;
  /** Every attempt of the subscription, newest first, read in one page. */
  let all: Attempt[];
  const EVENTS = ['p-1', 'p-2', 'p-3', 'p-4', 'p-5'];

  beforeAll(async () => {
    app = await startTestApp();
    // Each batch fails once (500), then succeeds: two attempts per event, one batch per event.
    const seen = new Set<string>();
    receiver = await TestReceiver.start((req) => {
      if (seen.has(req.body)) return { status: 200 };
      seen.add(req.body);
      return { status: 500, body: 'not yet' };
    });
    const created = await app.call('POST', '/v1/subscriptions', {
      body: { url: receiver.url, eventTypes: ['*'], maxBatchSize: 1 },
    });
    sub = created.body.id;
    const published = await app.call('POST', '/v1/events', {
      body: { events: EVENTS.map((id) => ({ id, type: 'page.x', data: { id } })) },
    });
    expect(published.status).toBe(202);
    await waitUntil(async () => (await list('?limit=100')).body.data.length === 2 * EVENTS.length, 60_000);
    all = (await list('?limit=100')).body.data;
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  const list = (query: string, as: 'acme' | 'globex' = 'acme') =>
    app.call('GET', `/v1/subscriptions/${sub}/deliveries${query}`, { as });

  /** Follows nextCursor from the first page to the last; answers every page's data. */
  async function pages(query: string): Promise<Attempt[][]> {
    const out: Attempt[][] = [];
    let cursor: string | null = null;
    do {
      const sep = query ? '&' : '?';
      const res = await list(
        `${query}${cursor === null ? '' : `${sep}cursor=${encodeURIComponent(cursor)}`}`,
      );
      expect(res.status).toBe(200);
      out.push(res.body.data);
      cursor = res.body.nextCursor;
      expect(out.length).toBeLessThan(50);
    } while (cursor !== null);
    return out;
  }

  it('the log holds every attempt the receiver saw, newest first, a failure before each success', () => {
    expect(all).toHaveLength(receiver.requests.length);
    expect(all.map((a) => new Date(a.at).getTime())).toEqual(
      [...all.map((a) => new Date(a.at).getTime())].sort((x, y) => y - x),
    );
    for (const id of EVENTS) {
      const mine = all.filter((a) => JSON.stringify(a.eventIds) === JSON.stringify([id]));
      // Newest first: the success (attempt 2) above the failure (attempt 1), under one webhook-id.
      expect(mine.map((a) => [a.attempt, a.statusCode])).toEqual([
        [2, 200],
        [1, 500],
      ]);
      expect(mine[0]!.msgId).toBe(mine[1]!.msgId);
      expect(mine[0]!.error).toBeNull();
      expect(mine[1]!.error).toEqual(expect.any(String));
    }
    // Oldest event's attempts at the bottom: the queue drained in order.
    expect(all.at(-1)!.eventIds).toEqual(['p-1']);
    expect(all[0]!.eventIds).toEqual(['p-5']);
  });

  it.each([1, 3, 4, 9])('pages of %i give every attempt exactly once, in the same order', async (limit) => {
    const got = await pages(`?limit=${limit}`);
    expect(got.slice(0, -1).every((p) => p.length === limit)).toBe(true);
    expect(got.at(-1)!.length).toBeGreaterThan(0);
    expect(got.at(-1)!.length).toBeLessThanOrEqual(limit);
    expect(got.flat()).toEqual(all);
  });

  it('a limit that fits exactly ends with nextCursor null, not an empty page', async () => {
    const page = await list(`?limit=${all.length}`);
    expect(page.body.data).toEqual(all);
    expect(page.body.nextCursor).toBeNull();
  });

  it.each([
    ['succeeded', (a: Attempt) => a.statusCode === 200],
    ['failed', (a: Attempt) => a.statusCode !== 200],
  ])('outcome=%s pages only those attempts, each once', async (outcome, keep) => {
    const want = all.filter(keep);
    expect(want).toHaveLength(EVENTS.length);
    const got = await pages(`?outcome=${outcome}&limit=2`);
    expect(got.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(got.flat()).toEqual(want);
  });

  it('attempts made while a client pages do not shift the pages it has yet to read', async () => {
    const first = await list('?limit=4');
    expect(first.body.data).toEqual(all.slice(0, 4));
    // A new event: two more attempts, newer than everything on the first page.
    await app.call('POST', '/v1/events', { body: { id: 'p-6', type: 'page.x', data: {} } });
    await waitUntil(async () => (await list('?limit=100')).body.data.length === all.length + 2, 60_000);
    const rest: Attempt[] = [];
    let cursor: string | null = first.body.nextCursor;
    while (cursor !== null) {
      const res = await list(`?limit=4&cursor=${encodeURIComponent(cursor)}`);
      rest.push(...res.body.data);
      cursor = res.body.nextCursor;
    }
    expect(rest).toEqual(all.slice(4));
    const now = (await list('?limit=2')).body.data as Attempt[];
    expect(now.map((a) => [a.eventIds, a.attempt])).toEqual([
      [['p-6'], 2],
      [['p-6'], 1],
    ]);
  });

  it('answers 400 at `cursor` for a cursor that is not one of its own', async () => {
    // A second subscription, so the subscriptions list has a next page and a cursor of its own.
    const second = await app.call('POST', '/v1/subscriptions', {
      body: { url: `${receiver.url}/2`, eventTypes: ['none'] },
    });
    expect(second.status).toBe(201);
    const listCursor = (await app.call('GET', '/v1/subscriptions?limit=1')).body.nextCursor as string;
    expect(typeof listCursor).toBe('string');
    const real = (await list('?limit=1')).body.nextCursor as string;
    const decoded = JSON.parse(Buffer.from(real, 'base64url').toString('utf8')) as { at: number };
    for (const cursor of [
      'garbage',
      'not base64url!',
      listCursor, // the subscriptions list's cursor: another list's position
      Buffer.from(JSON.stringify({ at: 'sub_x' })).toString('base64url'),
      Buffer.from(JSON.stringify({ at: -1 })).toString('base64url'),
      Buffer.from(JSON.stringify({ at: decoded.at, more: 1 })).toString('base64url'),
      Buffer.from(String(decoded.at)).toString('base64url'), // a bare position
      `${real}=`, // padding: not the text this service made
      'x'.repeat(600),
    ]) {
      const res = await list(`?cursor=${encodeURIComponent(cursor)}`);
      expect({ cursor, status: res.status }).toEqual({ cursor, status: 400 });
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['cursor']);
    }
    for (const bad of ['?outcome=maybe', '?limit=0', '?limit=101', '?limit=two']) {
      expect((await list(bad)).status).toBe(400);
    }
  });

  it('another tenant gets 404, with or without a valid cursor, and learns nothing', async () => {
    const real = (await list('?limit=1')).body.nextCursor as string;
    for (const query of ['', '?limit=1', `?cursor=${encodeURIComponent(real)}`, '?outcome=failed']) {
      const res = await list(query, 'globex');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      expect(JSON.stringify(res.body)).not.toContain('msg_');
    }
  });
});
