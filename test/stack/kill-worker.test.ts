import { sleep, until } from '../faults/support/env';
import { alive } from '../faults/support/service';
import { stackUp } from '../support/stack';
import { runCase } from './support/fault-case';
import { hooklinePid } from './support/stack-api';

/** ms after the SIGKILL in which deliveries must go on (the surviving worker's), before the drain. */
const WATCH_MS = 15_000;

describe('stack: SIGKILL of one worker process under load', () => {
  // Two APIs and two workers before (`up` starts exactly what is missing), and again after: the
  // killed process comes back.
  beforeAll(() => stackUp({ quiet: true }));
  afterAll(() => stackUp({ quiet: true }));

  it('the other worker takes over: everything accepted is delivered, in order, with worker-1 still dead', async () => {
    const survivor = hooklinePid('hookline-worker-2');
    let acksWhileWatching = -1;
    const { verdict, figures } = await runCase({
      name: 'kill-worker',
      total: 2000,
      ratePerSecond: 100,
      async fault(ctx) {
        const pid = hooklinePid('hookline-worker-1');
        ctx.setFault(true);
        const killedAt = Date.now();
        process.kill(pid, 'SIGKILL');
        await until(() => !alive(pid), 10_000, 'worker-1 gone');
        const acked = () => ctx.receiver.posts.filter((p) => p.answered === 200 && p.at > killedAt).length;
        await sleep(WATCH_MS);
        acksWhileWatching = acked();
        // worker-1 stays dead: the drain is the surviving worker's alone.
        return { recoveredAt: killedAt, extra: { acksInFirst15sAfterKill: acksWhileWatching } };
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(figures.delivered).toBe(2000 * 4);
    expect(acksWhileWatching).toBeGreaterThan(0);
    expect(alive(survivor)).toBe(true);
    expect(() => hooklinePid('hookline-worker-1')).toThrow(/does not run/);
  });
});
