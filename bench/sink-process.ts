/**
 * The signal ceiling's worker (bench/workflows.ts on its own task queue), forked by bench/support.ts
 * for that scenario only, so that no other process's RSS or CPU includes it. It tells the parent
 * `ready` over the IPC channel and stops when the channel closes (the parent stopped it, or is gone).
 */
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';

interface SinkConfig {
  address: string;
  namespace: string;
  taskQueue: string;
}

const quiet = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} };

async function main(): Promise<void> {
  const config = JSON.parse(process.env.HOOKLINE_BENCH_SINK ?? 'null') as SinkConfig | null;
  if (!config) throw new Error('HOOKLINE_BENCH_SINK is not set: this process is started by bench/run.ts');
  const connection = await NativeConnection.connect({ address: config.address });
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    workflowBundle: {
      code: (await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quiet })).code,
    },
  });
  const running = worker.run();
  process.on('SIGINT', () => undefined);
  process.on('disconnect', () => worker.shutdown());
  process.send?.({ type: 'ready' });
  await running;
  await connection.close();
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench sink failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
