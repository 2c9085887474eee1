import { Runtime } from '@temporalio/worker';

/**
 * The fault suite runs in band (maxWorkers 1), so the SDK runtime that test/support/setup-runtime.ts
 * installs lives in Jest's own process. A worker shuts it down when the last one stops; a file that
 * never starts one in process (the spawned-service cases) leaves it running, and its log forwarding
 * kept Jest from exiting. Shut it down after every file (the next file's setup installs a new one).
 */
afterAll(async () => {
  if (Runtime._instance) await Runtime._instance.shutdown();
});
