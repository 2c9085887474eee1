import { Lifecycle, sleep, StopRequested } from '../../src/lifecycle';
import { createLogger } from '../../src/logger';

const silent = createLogger('silent');

describe('Lifecycle', () => {
  it('stops what started, last started first, once however often asked', async () => {
    const lifecycle = new Lifecycle(silent);
    const stopped: string[] = [];
    for (const name of ['dev server', 'connection', 'worker', 'api']) {
      lifecycle.started(name, () => {
        stopped.push(name);
        return Promise.resolve();
      });
    }
    const [first, second] = await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    expect([first, second]).toEqual([true, true]);
    expect(stopped).toEqual(['api', 'worker', 'connection', 'dev server']);
  });

  it('stops the rest when one stop fails, and says it was not clean', async () => {
    const lifecycle = new Lifecycle(silent);
    const stopped: string[] = [];
    lifecycle.started('dev server', () => Promise.resolve(void stopped.push('dev server')));
    lifecycle.started('worker', () => Promise.reject(new Error('stuck')));
    lifecycle.started('api', () => Promise.resolve(void stopped.push('api')));
    expect(await lifecycle.stop()).toBe(false);
    expect(stopped).toEqual(['api', 'dev server']);
  });

  it('records a component that finished starting while a signal came, then stops start-up', async () => {
    const lifecycle = new Lifecycle(silent);
    const stopped: string[] = [];
    const started = lifecycle.start(
      'dev server',
      () => {
        lifecycle.requestStop('SIGTERM');
        return Promise.resolve('server');
      },
      (s) => Promise.resolve(void stopped.push(s)),
    );
    await expect(started).rejects.toBeInstanceOf(StopRequested);
    await expect(
      lifecycle.start(
        'worker',
        () => Promise.resolve(1),
        () => Promise.resolve(),
      ),
    ).rejects.toThrow('SIGTERM during start-up');
    expect(await lifecycle.stopRequested).toBe('SIGTERM');
    await lifecycle.stop();
    expect(stopped).toEqual(['server']);
  });

  it('stops as for a signal when a component fails, and keeps the first reason', async () => {
    const lifecycle = new Lifecycle(silent);
    expect(lifecycle.failed).toBeNull();
    lifecycle.fail('the worker stopped with an error');
    lifecycle.fail('something later');
    expect(await lifecycle.stopRequested).toBe('the worker stopped with an error');
    expect(lifecycle.signal.aborted).toBe(true);
    expect(lifecycle.failed).toBe('the worker stopped with an error');
  });

  it('is not failed by a signal', async () => {
    const lifecycle = new Lifecycle(silent);
    lifecycle.requestStop('SIGTERM');
    expect(lifecycle.failed).toBeNull();
    expect(await lifecycle.stopRequested).toBe('SIGTERM');
  });

  it('sleeps until aborted', async () => {
    const controller = new AbortController();
    const slept = sleep(60_000, controller.signal);
    controller.abort(new StopRequested('SIGINT'));
    await expect(slept).rejects.toBeInstanceOf(StopRequested);
  });
});
