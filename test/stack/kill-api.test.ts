import { until } from '../faults/support/env';
import { alive } from '../faults/support/service';
import { stackUp } from '../support/stack';
import { runCase } from './support/fault-case';
import { hooklinePid } from './support/stack-api';

describe('stack: SIGKILL of one API process under load', () => {
  // Two APIs and two workers before (`up` starts exactly what is missing), and again after: the
  // killed process comes back.
  beforeAll(() => stackUp({ quiet: true }));
  afterAll(() => stackUp({ quiet: true }));

  it('the other API keeps answering, producers retry against it, and every 202 is delivered', async () => {
    const survivor = hooklinePid('hookline-api-2');
    let readyDuringFault: number | null = null;
    const { verdict, figures, ctx } = await runCase({
      name: 'kill-api',
      total: 2000,
      ratePerSecond: 100,
      async fault(c) {
        const pid = hooklinePid('hookline-api-1');
        c.setFault(true);
        const killedAt = Date.now();
        const acceptedBefore = c.producer.accepted202;
        process.kill(pid, 'SIGKILL');
        await until(() => !alive(pid), 10_000, 'api-1 gone');
        // api-1 stays dead for the rest of the case: the rest is published through api-2 alone.
        await until(
          () => c.producer.accepted202 >= acceptedBefore + 20,
          60_000,
          '20 more 202s through api-2',
        );
        readyDuringFault = (await fetch(`${c.urls[1]}/readyz`)).status;
        return { recoveredAt: killedAt, extra: { readyzOfSurvivor: readyDuringFault } };
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(figures.delivered).toBe(2000 * 4);
    expect(ctx.producer.acceptedDuringFault).toBeGreaterThanOrEqual(20);
    // Requests sent to the dead API were refused and sent again to the other.
    expect(ctx.producer.retries.connection).toBeGreaterThan(0);
    expect(readyDuringFault).toBe(200);
    expect(alive(survivor)).toBe(true);
  });
});
