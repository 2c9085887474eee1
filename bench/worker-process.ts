/**
 * The benchmark's worker processes, forked by bench/support.ts so that their RSS and CPU are their own
 * and not mixed with the producer's, the receiver's or the API's. One process runs one of:
 * - `hookline`: the project's real worker (startWorker, real activities and metrics, workflows bundled
 *   from src/workflows, an HTTP client allowed to reach 127.0.0.0/8): what `--worker-only` runs;
 * - `sink`: a worker on its own task queue for bench/workflows.ts (the signal ceiling's sink), started
 *   only for that scenario, so that the hookline worker's RSS is the service's alone.
 *
 * Protocol over the IPC channel: see WorkerRequest / WorkerReply. When the parent goes away (even
 * SIGKILLed) the channel disconnects and this process stops its workers and exits: no orphans.
 */
import { getHeapStatistics } from 'node:v8';
import { validateEvents } from '../src/api/ingress-validation';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { createHttpClient } from '../src/delivery/http';
import { createLogger } from '../src/logger';
import { createMetrics } from '../src/metrics';
import { parseAllowedNetworks } from '../src/net/ssrf';
import { installRuntime } from '../src/temporal/runtime';
import { startWorker, type WorkerHandle } from '../src/worker';

export interface WorkerProcessConfig {
  role: 'hookline' | 'sink';
  address: string;
  namespace: string;
  /** Task queue: the project's (subscriber workflows, deliver activity) or the signal sink's. */
  taskQueue: string;
  /** The worker's sticky cache size (WORKER_MAX_CACHED_WORKFLOWS); absent: the SDK's default. */
  maxCachedWorkflows?: number;
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
  /** At the window's end, MiB: the main thread's V8 heap in use, and memory outside V8 heaps that V8
   * knows of (buffers). The rest of RSS: workflow threads' heaps, the SDK core (Rust), code. */
  heapUsedMb: number;
  externalMb: number;
}

/** Facts about the worker, for the report. */
export interface WorkerInfo {
  pid: number;
  /** The worker's sticky cache size (the SDK's default unless configured). */
  maxCachedWorkflows: number;
  /** V8's heap limit of the process, MiB (the SDK derives its default cache size from it). */
  heapLimitMb: number;
}

export type WorkerRequest =
  { type: 'mark'; id: number } | { type: 'report'; id: number } | { type: 'stop'; id: number };

export type WorkerReply =
  | { type: 'ready'; info: WorkerInfo }
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
      const memory = process.memoryUsage();
      rss.push(memory.rss);
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
        heapUsedMb: round(memory.heapUsed / MiB),
        externalMb: round(memory.external / MiB),
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

  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve(config.role === 'hookline' ? '../src/workflows' : './workflows'),
    logger: quietBundlerLogger,
  });

  const connection = await NativeConnection.connect({ address: config.address });
  const http = createHttpClient({ allowed: parseAllowedNetworks(['127.0.0.0/8']) });
  const workers: WorkerHandle[] = [];
  workers.push(
    await startWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      logger,
      deps: {
        clock: () => new Date(),
        http,
        version: 'bench',
        origin: 'hookline.bench',
        validateEvents,
        // As in src/main.ts: the service's worker counts deliveries (prom-client, default metrics on).
        metrics: config.role === 'hookline' ? createMetrics() : undefined,
      },
      workflowBundle: { code: bundle.code },
      maxCachedWorkflows: config.maxCachedWorkflows,
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
  send({
    type: 'ready',
    info: {
      pid: process.pid,
      maxCachedWorkflows: workers[0]!.worker.options.maxCachedWorkflows,
      heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / MiB),
    },
  });
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`bench worker failed: ${message}\n`);
  send({ type: 'failed', message });
  process.exit(1);
});
