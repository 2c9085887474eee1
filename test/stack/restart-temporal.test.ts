import { runStack, stackUp } from '../support/stack';
import { runCase } from './support/fault-case';
import { hooklinePid } from './support/stack-api';

const PROCESSES = ['hookline-api-1', 'hookline-api-2', 'hookline-worker-1', 'hookline-worker-2'];

describe('stack: the Temporal server restarted under load', () => {
  // Two APIs and two workers (`up` starts exactly what is missing).
  beforeAll(() => stackUp({ quiet: true }));

  it('delivers everything accepted, in order; every Hookline process rides it out', async () => {
    const before = PROCESSES.map((n) => hooklinePid(n));
    const { verdict, figures } = await runCase({
      name: 'restart-temporal',
      total: 2000,
      ratePerSecond: 100,
      async fault(ctx) {
        ctx.setFault(true);
        const t0 = Date.now();
        await runStack(['restart-temporal'], { quiet: true });
        const recoveredAt = Date.now();
        return { recoveredAt, extra: { restartMs: recoveredAt - t0 } };
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(figures.delivered).toBe(2000 * 4);
    // The same processes, none restarted or crashed.
    expect(PROCESSES.map((n) => hooklinePid(n))).toEqual(before);
  });
});
