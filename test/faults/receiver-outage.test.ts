import { KEYS, startTestApp, type TestApp } from '../support/app';
import { OUTAGE_SECONDS, sleep, until } from './support/env';
import { drainAndCheck } from './support/drain';
import { Ledger } from './support/ledger';
import { Producer } from './support/producer';
import { FaultReceiver } from './support/receiver';
import { subscribe } from './support/service';

/** Events per second published before, during and after the outage. */
const RATE = 20;

describe(`a receiver outage of ${OUTAGE_SECONDS} s with publishes going on`, () => {
  let app: TestApp;
  let receiver: FaultReceiver;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    Producer.abortAll();
    await receiver?.close();
    await app?.stop();
  });

  it('queues everything while the receiver is down, then drains it in publish order', async () => {
    const startedAt = Date.now();
    receiver = await FaultReceiver.start();
    receiver.behave = () => ({ kind: 'answer', status: 200 });
    const subs = [
      await subscribe(app.url, KEYS.acme, `${receiver.url}/small`, { maxBatchSize: 10 }),
      await subscribe(app.url, KEYS.acme, `${receiver.url}/large`, { maxBatchSize: 100 }),
    ];
    const ledger = new Ledger();
    let down = false;
    const producer = new Producer({
      baseUrl: () => app.url,
      apiKey: KEYS.acme,
      prefix: 'out',
      batchSize: 10,
      ratePerSecond: RATE,
      subscriptions: () => subs,
      ledger,
    }).start();
    producer.faultActive = () => down;

    // Steady state first: deliveries flowing to both subscriptions.
    await until(
      () => new Set(receiver.posts.filter((p) => p.answered === 200).map((p) => p.path)).size === 2,
      60_000,
      'deliveries to both subscriptions before the outage',
    );
    await sleep(3_000);

    const postsBefore = receiver.posts.length;
    const acceptedBefore = ledger.accepted.length;
    down = true;
    await receiver.goDown();
    await sleep(OUTAGE_SECONDS * 1000);
    const acceptedDuringOutage = ledger.accepted.length - acceptedBefore;
    // Nothing got through while the port was closed, and publishing went on.
    expect(receiver.posts.length).toBe(postsBefore);
    expect(acceptedDuringOutage).toBeGreaterThan(0);
    const owedAtRecovery = ledger.outstanding(receiver.posts);

    await receiver.reopen();
    down = false;
    const recoveredAt = Date.now();
    // Publishing goes on a little after the outage too, behind the backlog.
    await sleep(3_000);

    const verdict = await drainAndCheck({
      name: 'receiver-outage',
      ledger,
      receiver,
      producer,
      baseUrl: app.url,
      apiKey: KEYS.acme,
      subscriptions: subs,
      recoveredAt,
      startedAt,
      timeoutMs: 180_000,
      extra: {
        outageSeconds: OUTAGE_SECONDS,
        ratePerSecond: RATE,
        eventsAcceptedDuringOutage: acceptedDuringOutage,
        owedAtRecovery,
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.total.dead).toBe(0);
    expect(verdict.total.delivered).toBe(ledger.accepted.length * subs.length);
    expect(owedAtRecovery).toBeGreaterThanOrEqual(acceptedDuringOutage * subs.length);
  });
});
