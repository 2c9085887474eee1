import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import type { Logger } from './logger';

export interface WorkerHandle {
  worker: Worker;
  /** Resolves when the worker has drained and stopped. */
  stop(): Promise<void>;
  /** True while the worker is running and polling its task queue. */
  isPolling(): boolean;
}

export interface StartWorkerOptions {
  /** Either an address to connect to (the worker owns that connection) or a connection to share. */
  address?: string;
  connection?: NativeConnection;
  namespace: string;
  taskQueue: string;
  logger: Logger;
  deps: Omit<ActivityDeps, 'logger'>;
  /** A pre-built workflow bundle (tests build one and share it); default: bundle src/workflows. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /**
   * Payload codecs (encryption), the same as the clients'; see `dataConverterFor`. Codecs run outside the
   * sandbox, so a pre-built bundle needs no rebuild. Default: plain JSON payloads.
   */
  dataConverter?: DataConverter;
  /**
   * Workflow runs kept in memory between tasks (the sticky cache). Each idle subscription held there
   * costs the process memory; one evicted is replayed from its history on its next task. Default:
   * the SDK's, derived from the V8 heap limit (about 2,300 with a 4 GB heap).
   */
  maxCachedWorkflows?: number;
  /** Called when the worker stops with an error it was not asked to stop for (logged already). */
  onFailure?: (err: unknown) => void;
}

/** Creates the worker and starts it polling. `stop()` drains in-flight tasks and closes the connection. */
export async function startWorker(opts: StartWorkerOptions): Promise<WorkerHandle> {
  const owned = opts.connection ? null : await NativeConnection.connect({ address: opts.address });
  const connection = opts.connection ?? owned!;
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: createActivities({ ...opts.deps, logger: opts.logger }),
    ...(opts.workflowBundle
      ? { workflowBundle: opts.workflowBundle }
      : { workflowsPath: require.resolve('./workflows') }),
    // Drain: activities get this long to finish after a shutdown request (seconds matter: deliveries are 15 s).
    shutdownGraceTime: '20 seconds',
    dataConverter: opts.dataConverter,
    maxCachedWorkflows: opts.maxCachedWorkflows,
  });
  const running = worker.run();
  let stopped: Promise<void> | null = null;
  running.catch((err: unknown) => {
    opts.logger.error({ err }, 'worker stopped with an error');
    if (stopped === null) opts.onFailure?.(err);
  });
  return {
    worker,
    isPolling: () => worker.getState() === 'RUNNING',
    /** Idempotent: a second call waits for the first. */
    stop() {
      stopped ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
        await owned?.close();
      })();
      return stopped;
    },
  };
}
