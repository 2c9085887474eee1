/**
 * The benchmark's worker process, forked by bench/support.ts so that its RSS and CPU are its own and
 * not mixed with the producer's and the receiver's. It runs:
 * - the project's real worker (startWorker, real activities, workflows bundled from src/workflows,
 *   an HTTP client allowed to reach 127.0.0.0/8), and
 * - a second worker on its own task queue for bench/workflows.ts (the signal sink).
 *
 * Protocol over the IPC channel: see WorkerRequest / WorkerReply. When the parent goes away (even
 * SIGKILLed) the channel disconnects and this process stops its workers and exits: no orphans.
 */
import { validateEvents } from '../src/api/ingress-validation';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { createHttpClient } from '../src/delivery/http';
import { createLogger } from '../src/logger';
import { parseAllowedNetworks } from '../src/net/ssrf';
import { installRuntime } from '../src/temporal/runtime';
import { startWorker, type WorkerHandle } from '../src/worker';

export interface WorkerProcessConfig {
  address: string;
  namespace: string;
  /** Task queue of the project's worker (subscriber workflows, deliver activity). */
  taskQueue: string;
  /** Task queue of the signal-sink worker. */
  sinkTaskQueue: string;
}

/** Resource use of this process over a window opened by `mark`. */
export interface ResourceUsage {
  /** Largest sampled RSS, MiB. */
  rssMaxMb: number;
  /** Mean of the samples, MiB. */
  rssMeanMb: number;
  /** CPU time (user + system, all threads of the process) ÷ wall time, in % of one core. */
  cpuPercent: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  wallMs: number;
  samples: number;
}

export type WorkerRequest =
  { type: 'mark'; id: number } | { type: 'report'; id: number } | { type: 'stop'; id: number };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'marked'; id: number }
  | { type: 'report'; id: number; usage: ResourceUsage }
  | { type: 'stopped'; id: number };

/** ms between RSS samples. */
const SAMPLE_INTERVAL_MS = 100;
const MiB = 1024 * 1024;

function send(reply: WorkerReply): void {
  process.send?.(reply);
}

/** Samples RSS on a timer; `mark` opens a window, `report` closes it. */
function createSampler() {
  let cpuAt = process.cpuUsage();
  let wallAt = performance.now();
  let rss: number[] = [];
  const timer = setInterval(() => rss.push(process.memoryUsage().rss), SAMPLE_INTERVAL_MS);
  timer.unref();
  return {
    mark() {
      cpuAt = process.cpuUsage();
      wallAt = performance.now();
      rss = [process.memoryUsage().rss];
    },
    report(): ResourceUsage {
      rss.push(process.memoryUsage().rss);
      const cpu = process.cpuUsage(cpuAt); // µs
      const wallMs = performance.now() - wallAt;
      const round = (n: number) => Math.round(n * 10) / 10;
      return {
        rssMaxMb: round(Math.max(...rss) / MiB),
        rssMeanMb: round(rss.reduce((a, b) => a + b, 0) / rss.length / MiB),
        cpuPercent: round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
        cpuUserMs: Math.round(cpu.user / 1000),
        cpuSystemMs: Math.round(cpu.system / 1000),
        wallMs: Math.round(wallMs),
        samples: rss.length,
      };
    },
    stop: () => clearInterval(timer),
  };
}

const quietBundlerLogger = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} };

async function main(): Promise<void> {
  const config = JSON.parse(process.env.HOOKLINE_BENCH_WORKER ?? 'null') as WorkerProcessConfig | null;
  if (!config) throw new Error('HOOKLINE_BENCH_WORKER is not set: this process is started by bench/run.ts');
  // Its output goes to worker.log in the run's temporary directory (see support.ts).
  const logger = createLogger(process.env.HOOKLINE_BENCH_LOG_LEVEL ?? 'warn', 'hookline-bench-worker');
  installRuntime(logger, 'WARN');

  const [mainBundle, sinkBundle] = await Promise.all([
    bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), logger: quietBundlerLogger }),
    bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quietBundlerLogger }),
  ]);

  const connection = await NativeConnection.connect({ address: config.address });
  const http = createHttpClient({ allowed: parseAllowedNetworks(['127.0.0.0/8']) });
  const workers: WorkerHandle[] = [];
  workers.push(
    await startWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      logger,
      deps: { clock: () => new Date(), http, version: 'bench', origin: 'hookline.bench', validateEvents },
      workflowBundle: { code: mainBundle.code },
    }),
  );
  workers.push(
    await startWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.sinkTaskQueue,
      logger,
      deps: { clock: () => new Date(), http, version: 'bench', origin: 'hookline.bench', validateEvents },
      workflowBundle: { code: sinkBundle.code },
    }),
  );

  const sampler = createSampler();
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      sampler.stop();
      await Promise.all(workers.map((w) => w.stop()));
      await http.close();
      await connection.close();
    })());

  process.on('message', (msg: WorkerRequest) => {
    switch (msg.type) {
      case 'mark':
        sampler.mark();
        send({ type: 'marked', id: msg.id });
        break;
      case 'report':
        send({ type: 'report', id: msg.id, usage: sampler.report() });
        break;
      case 'stop':
        void stop().then(
          () => {
            send({ type: 'stopped', id: msg.id });
            process.disconnect();
          },
          (err: unknown) => {
            logger.error({ err }, 'worker stop failed');
            process.exit(1);
          },
        );
        break;
    }
  });
  // Ctrl-C reaches the whole process group: the parent decides when this process stops (it asks
  // with `stop`, or its channel closes when it is gone).
  process.on('SIGINT', () => undefined);
  // The parent is gone (it may have been killed): stop rather than linger as an orphan.
  process.on('disconnect', () => {
    void stop().finally(() => process.exit(0));
  });
  send({ type: 'ready' });
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`bench worker failed: ${message}\n`);
  send({ type: 'failed', message });
  process.exit(1);
});
