import { Runtime } from '@temporalio/worker';

/**
 * When Jest runs in band (the fault suite, maxWorkers 1, or any run of a single file), the SDK runtime
 * that test/support/setup-runtime.ts installs lives in Jest's own process. A worker shuts it down
 * when the last one stops; a file that never starts one in process (unit tests, spawned services)
 * left it running, and Jest never exited. Shut it down after every file (the next file's setup
 * installs a new one).
 */
afterAll(async () => {
  if (Runtime._instance) await Runtime._instance.shutdown();
});
