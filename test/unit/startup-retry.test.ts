import { status as GrpcStatus, Metadata } from '@grpc/grpc-js';
import { StartupError, StopRequested } from '../../src/lifecycle';
import { isTransientStartupError, retryStartupStep, startupBudget } from '../../src/temporal/setup';

/** An error shaped as @grpc/grpc-js answers a failed call. */
function grpcError(code: GrpcStatus, message: string): Error {
  return Object.assign(new Error(`${code} ${GrpcStatus[code]}: ${message}`), {
    code,
    details: message,
    metadata: new Metadata(),
  });
}

describe('start-up steps that talk to Temporal', () => {
  it('retry a busy server ("please retry") with back-off until it answers', async () => {
    let calls = 0;
    const answer = await retryStartupStep(
      'registering search attributes',
      () =>
        ++calls < 3
          ? Promise.reject(grpcError(GrpcStatus.UNAVAILABLE, 'something went wrong, please retry'))
          : Promise.resolve('done'),
      startupBudget({ timeoutMs: 10_000 }),
    );
    expect(answer).toBe('done');
    expect(calls).toBe(3);
  });

  it('give up at the deadline with one line naming the step and the last failure', async () => {
    const started = Date.now();
    const attempt = retryStartupStep(
      'starting the workflows of tenant default',
      () => Promise.reject(grpcError(GrpcStatus.INTERNAL, 'something went wrong, please retry\nmore')),
      startupBudget({ timeoutMs: 1_000 }),
    );
    await expect(attempt).rejects.toThrow(StartupError);
    await expect(attempt).rejects.toThrow(
      /^starting the workflows of tenant default did not succeed before the start-up deadline: 13 INTERNAL: something went wrong, please retry$/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('do not retry what no retry changes', async () => {
    let calls = 0;
    const denied = grpcError(GrpcStatus.PERMISSION_DENIED, 'no');
    await expect(
      retryStartupStep(
        'x',
        () => {
          calls++;
          return Promise.reject(denied);
        },
        startupBudget(),
      ),
    ).rejects.toBe(denied);
    expect(calls).toBe(1);
    expect(isTransientStartupError(new Error('wrapped', { cause: denied }))).toBe(false);
    expect(isTransientStartupError(new Error('Failed to connect before the deadline'))).toBe(true);
  });

  it('stop retrying at once when a signal comes', async () => {
    const controller = new AbortController();
    const attempt = retryStartupStep(
      'connecting to Temporal',
      () => Promise.reject(grpcError(GrpcStatus.UNAVAILABLE, 'down')),
      startupBudget({ timeoutMs: 60_000, signal: controller.signal }),
    );
    setTimeout(() => controller.abort(new StopRequested('SIGTERM')), 100);
    const started = Date.now();
    await expect(attempt).rejects.toBeInstanceOf(StopRequested);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
