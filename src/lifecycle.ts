/**
 * Start and stop of the process's components. Start-up records each component as it starts; a failed
 * step, a signal during start-up or a signal afterwards stops all of them, last started first.
 */
import type { Logger } from './logger';

/** A start-up failure whose message says all there is to say: printed as one line, without a stack. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** Thrown by a start-up step that a signal interrupted. */
export class StopRequested extends Error {
  override name = 'StopRequested';
  constructor(readonly signal: string) {
    super(`${signal} during start-up`);
  }
}

/** Signals that ask the process to stop: Ctrl-C, and what `docker stop` and systemd send. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export class Lifecycle {
  private readonly components: { name: string; stop: () => Promise<void> }[] = [];
  private readonly controller = new AbortController();
  private stopping: Promise<boolean> | null = null;
  private requested: ((signal: string) => void) | null = null;
  private failure: string | null = null;
  /** Resolves with the name of the first stop signal. */
  readonly stopRequested: Promise<string>;

  constructor(private readonly logger: Logger) {
    this.stopRequested = new Promise((resolve) => (this.requested = resolve));
  }

  /** Aborted by the first stop signal: long start-up steps (waits, retries) give up when it fires. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Installs the SIGINT/SIGTERM handlers; call first, before anything starts. The first signal aborts
   * `signal` and resolves `stopRequested`; a second one exits at once, with code 1.
   */
  handleSignals(): void {
    for (const name of STOP_SIGNALS) {
      process.on(name, () => {
        if (this.controller.signal.aborted) {
          this.logger.warn({ signal: name }, 'second signal: exiting now');
          process.exit(1);
        }
        this.requestStop(name);
      });
    }
  }

  /** What a first stop signal does: aborts `signal` and resolves `stopRequested`. */
  requestStop(signal: string): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(new StopRequested(signal));
    this.requested?.(signal);
  }

  /**
   * A component broke after start-up and cannot carry on (the worker failed, the embedded dev server
   * could not be started again): stop everything as for a signal, and exit 1, so that whatever
   * supervises the process starts it afresh rather than leave it half up.
   */
  fail(reason: string): void {
    this.failure ??= reason;
    this.requestStop(reason);
  }

  /** Why `fail` was called first, or null. */
  get failed(): string | null {
    return this.failure;
  }

  /** Throws StopRequested once a signal came: call between start-up steps. */
  checkpoint(): void {
    if (this.controller.signal.aborted) throw this.controller.signal.reason as StopRequested;
  }

  /** Records a started component: `stop` runs before the stop of everything recorded earlier. */
  started(name: string, stop: () => Promise<void>): void {
    this.components.push({ name, stop });
  }

  /**
   * Runs one start-up step and records what it started, then checks for a signal. A component
   * started while a signal came is recorded first, so it is stopped too.
   */
  async start<T>(name: string, start: () => Promise<T>, stop: (started: T) => Promise<void>): Promise<T> {
    this.checkpoint();
    const started = await start();
    this.started(name, () => stop(started));
    this.checkpoint();
    return started;
  }

  /**
   * Stops every recorded component, last started first; a failure is logged and the rest still
   * stop. Runs once, however often it is called. Answers whether every stop succeeded.
   */
  stop(): Promise<boolean> {
    this.stopping ??= (async () => {
      let clean = true;
      for (const { name, stop } of this.components.splice(0).reverse()) {
        try {
          await stop();
        } catch (err) {
          clean = false;
          this.logger.error({ err, component: name }, 'component did not stop cleanly');
        }
      }
      return clean;
    })();
    return this.stopping;
  }
}

/** Waits `ms`; rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
