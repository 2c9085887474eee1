/**
 * Shared setup of `npm run bench`: a Temporal server (its own dev server, or TEMPORAL_ADDRESS), the
 * service as two processes (the API, `src/main.ts --api-only`, and the worker, bench/worker-process.ts),
 * the loopback receiver, and the helpers scenarios share to start subscribers, produce events and
 * measure resources.
 */
import { makeSubscription as makeTestSubscription } from '../test/support/subscriber';
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Histogram } from 'hdr-histogram-js';
import type { HooklineEvent, Subscription } from '../src/domain/types';
import { createLogger } from '../src/logger';
import { findTemporalBinary } from '../src/temporal/binaries';
import { startDevServer, type DevServer } from '../src/temporal/dev-server';
import { SA } from '../src/temporal/search-attributes';
import { registerSearchAttributes } from '../src/temporal/setup';
import { deleteSignal, enqueueUpdate, type BacklogLimits } from '../src/workflows/messages';
import { subscriberWorkflow, subscriberWorkflowId } from '../src/workflows/subscriber';
import { ApiProcess } from './api-process';
import { procCpuMs } from './proc';
import { nowMs, Receiver } from './receiver';
import type {
  ResourceUsage,
  WorkerInfo,
  WorkerProcessConfig,
  WorkerReply,
  WorkerRequest,
} from './worker-process';

export type { ResourceUsage };

/** Progress goes to stderr, so stdout holds only the table. */
export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A free TCP port on loopback (released at once; the race with other processes is acceptable here). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Results

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** One row of the table (and of the JSON). Absent figures print as `-`. */
export interface CaseResult {
  scenario: string;
  case: string;
  /** What the case was run with, so rows can be matched (ratios) and runs compared. */
  params: Record<string, number | string | boolean>;
  events?: number;
  /** Delivered (or POSTed) events per second. */
  eventsPerSec?: number;
  /** Events per second the API accepted (202). */
  publishedPerSec?: number;
  /** Requests per second: POSTs for HTTP, signals for the signal ceiling. */
  opsPerSec?: number;
  posts?: number;
  meanBatchFill?: number;
  latency?: LatencySummary;
  wallSec?: number;
  /** Publishes refused: 503 from the API (backlog full), or BacklogFull updates. */
  refusals?: number;
  worker?: ResourceUsage;
  /** The API process: largest sampled RSS (MiB) and CPU (% of one core); absent without /proc. */
  api?: { rssMaxMb: number | null; cpuPercent: number | null };
  /** Temporal dev server CPU, % of one core (null with TEMPORAL_ADDRESS). */
  serverCpuPercent?: number | null;
  /** This process (producer + receiver) CPU, % of one core. */
  benchCpuPercent?: number;
  /** One line printed under the table (what the columns cannot say). */
  note?: string;
  /** The measured part, on the monotonic clock (µs, as V8 CPU profiles time their samples). */
  window?: { fromUs: number; toUs: number };
  /** Anything else worth keeping in the JSON. */
  extra?: Record<string, unknown>;
}

export interface ScenarioContext {
  env: BenchEnv;
  quick: boolean;
  /** Backlog limits of the subscribers the scenarios start directly (not through the API). */
  limits: BacklogLimits;
  /** `--case` filters (substrings of case labels); empty: every case. */
  cases: string[];
  /** `--idle-subs`: how many idle subscriptions the idle scenario registers; absent: its default. */
  idleSubs?: number;
}

/** Whether a case runs under the `--case` filters. */
export function selected(ctx: ScenarioContext, label: string): boolean {
  return ctx.cases.length === 0 || ctx.cases.some((c) => label.includes(c));
}

/** The monotonic clock in µs: the time base of V8 CPU profiles (startTime, timeDeltas). */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** A scenario returns one result per case it ran. */
export type Scenario = (ctx: ScenarioContext) => Promise<CaseResult[]>;

const round1 = (n: number) => Math.round(n * 10) / 10;

/** p50/p95/p99 of a histogram of µs, in ms. */
export function summarizeLatency(h: Histogram): LatencySummary | undefined {
  if (h.totalCount === 0) return undefined;
  const ms = (us: number) => round1(us / 1000);
  return {
    count: h.totalCount,
    p50Ms: ms(h.getValueAtPercentile(50)),
    p95Ms: ms(h.getValueAtPercentile(95)),
    p99Ms: ms(h.getValueAtPercentile(99)),
    maxMs: ms(h.maxValue),
    meanMs: ms(h.mean),
  };
}

/**
 * The receiver's figures for a case. events/s counts the events after the first POST over the span
 * from the first POST to the last (the first POST's events arrived at the span's start).
 */
export function deliveryFigures(receiver: Receiver, startedAt: number) {
  const s = receiver.stats;
  const spanMs = s.firstAt !== null && s.lastAt !== null ? s.lastAt - s.firstAt : 0;
  return {
    events: s.events,
    posts: s.posts,
    eventsPerSec: spanMs > 0 ? Math.round(((s.events - s.firstPostEvents) / spanMs) * 1000) : undefined,
    meanBatchFill: s.posts > 0 ? round1(s.events / s.posts) : undefined,
    latency: summarizeLatency(s.latency),
    wallSec: s.lastAt !== null ? round1((s.lastAt - startedAt) / 1000) : undefined,
    extra: {
      deliverySpanSec: round1(spanMs / 1000),
      duplicates: s.duplicates,
      distinctEvents: s.ids.size,
      unparsable: s.unparsable,
      bytes: s.bytes,
      batchSizes: Object.fromEntries([...s.batchSizes.entries()].sort((a, b) => a[0] - b[0])),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Worker process

let requestIds = 0;

/** The forked worker process (see worker-process.ts). */
export class WorkerProcess {
  private pending = new Map<number, (reply: WorkerReply) => void>();
  private exited: Promise<void>;
  /** Set once the process is ready. */
  info: WorkerInfo | null = null;

  private constructor(
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (reply: WorkerReply) => {
      if (!('id' in reply)) return;
      const resolve = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      resolve?.(reply);
    });
  }

  /** `profileDir`: write V8 CPU profiles of the process (every thread) there when it exits. */
  static async start(
    config: WorkerProcessConfig,
    logFile: string,
    profileDir: string | null,
  ): Promise<WorkerProcess> {
    const out = openSync(logFile, 'a');
    const child = fork(join(__dirname, 'worker-process.ts'), [], {
      execArgv: ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])],
      env: { ...process.env, HOOKLINE_BENCH_WORKER: JSON.stringify(config) },
      stdio: ['ignore', out, out, 'ipc'],
    });
    closeSync(out);
    const handle = new WorkerProcess(child, logFile);
    try {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          clearTimeout(timer);
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (err) reject(err);
          else resolve();
        };
        const onMessage = (reply: WorkerReply) => {
          if (reply.type === 'ready') {
            handle.info = reply.info;
            done();
          }
          if (reply.type === 'failed') done(new Error(`worker process failed: ${reply.message}`));
        };
        const onExit = (code: number | null) => done(new Error(`worker process exited with code ${code}`));
        // Bundling two workflow bundles on a busy machine takes a while.
        const timer = setTimeout(() => done(new Error('worker process not ready within 180 s')), 180_000);
        child.on('message', onMessage);
        child.once('exit', onExit);
      });
    } catch (err) {
      await handle.stop();
      throw err;
    }
    return handle;
  }

  private async request(req: WorkerRequest, timeoutMs = 30_000): Promise<WorkerReply> {
    if (this.child.exitCode !== null || !this.child.connected) throw new Error('worker process is gone');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(req.id);
        reject(new Error(`worker process did not answer ${req.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(req.id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.child.send(req);
    });
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  /** Opens a resource-measuring window. */
  async mark(): Promise<void> {
    await this.request({ type: 'mark', id: ++requestIds });
  }

  /** Resource use since the last `mark`. */
  async report(): Promise<ResourceUsage> {
    const reply = await this.request({ type: 'report', id: ++requestIds });
    if (reply.type !== 'report') throw new Error(`unexpected reply ${reply.type}`);
    return reply.usage;
  }

  /** Drains the workers and waits for the process to exit; SIGKILL after 30 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) {
      try {
        await this.request({ type: 'stop', id: ++requestIds }, 30_000);
      } catch (err) {
        log(`worker process did not stop cleanly: ${String(err)}`);
      }
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    if (this.child.connected) this.child.disconnect();
    await this.exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// The environment

/** WORKER_MAX_CACHED_WORKFLOWS, as the service reads it (src/config.ts); undefined: the SDK's default. */
function cacheSize(): number | undefined {
  const raw = process.env.WORKER_MAX_CACHED_WORKFLOWS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error('WORKER_MAX_CACHED_WORKFLOWS must be an integer >= 0');
  return n;
}

/** The bench's tenants (each with its own API key and registry); a run suffix keeps them fresh. */
export const TENANTS = [
  'e2e-1',
  'e2e-10',
  'e2e-100',
  'fanout',
  'outage',
  'idle-1',
  'idle-2',
  'idle-3',
  'idle-4',
  'idle-5',
] as const;
export type TenantName = (typeof TENANTS)[number];

export interface BenchEnv {
  client: Client;
  namespace: string;
  /** The service's task queue (tenant and subscriber workflows). */
  taskQueue: string;
  receiver: Receiver;
  worker: WorkerProcess;
  api: ApiProcess;
  /** The tenant id of a bench tenant in this run. */
  tenant(name: TenantName): string;
  temporal: { address: string; external: boolean; serverPid: number | null; cliVersion: string | null };
  /** The worker process between start-up and the first scenario (polling, nothing to do). */
  workerIdle: ResourceUsage;
  /** The API process's RSS then, MiB. */
  apiIdleRssMb: number | null;
  /** Pids of the service's processes (to name CPU profiles); a restarted worker adds one. */
  pids: { workers: number[]; api: number | null };
  /** What the worker and API processes logged (warnings and worse), filled in when the environment closes. */
  workerLog: WorkerLogEntry[];
  apiLog: WorkerLogEntry[];
  /** Runs `fn` and measures worker, API, server and bench-process CPU (and worker/API RSS) around it. */
  measure<T>(fn: () => Promise<T>): Promise<{ value: T; resources: Resources }>;
  /** Replaces the worker process by a fresh one (a clean RSS baseline; what a deploy does). */
  restartWorker(): Promise<void>;
  /** Starts a signal-sink worker process (bench/workflows.ts) on its own task queue; stop it after. */
  startSink(): Promise<{ taskQueue: string; stop(): Promise<void> }>;
  /** Stops everything this environment started; safe to call twice, never throws. */
  close(): Promise<void>;
}

export interface Resources {
  worker: ResourceUsage;
  api: { rssMaxMb: number | null; cpuPercent: number | null };
  serverCpuPercent: number | null;
  benchCpuPercent: number;
  window: { fromUs: number; toUs: number };
}

export interface WorkerLogEntry {
  level: string;
  message: string;
  count: number;
  /** One full line of it, for the details (sizes, limits, targets). */
  example: string;
}

const PINO_LEVELS: Record<number, string> = { 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** A process's log grouped by level and message; lines that are not pino JSON count as `text`. */
function summarizeLog(file: string): WorkerLogEntry[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const groups = new Map<string, WorkerLogEntry>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let level = 'text';
    let message = line.slice(0, 300);
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      level = PINO_LEVELS[entry.level ?? 0] ?? String(entry.level);
      message = entry.msg ?? '';
    } catch {
      // a stack trace or other plain output
    }
    const key = `${level} ${message}`;
    const group = groups.get(key);
    if (group) group.count++;
    else groups.set(key, { level, message, count: 1, example: line.slice(0, 2000) });
  }
  return [...groups.values()];
}

function temporalCliVersion(): string | null {
  try {
    const cli = findTemporalBinary('cli');
    return cli ? execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim() : null;
  } catch {
    return null;
  }
}

/** Stop functions, run last-in first-out by `close()`: once, never throwing, errors logged. */
export class Cleanups {
  private stack: (() => Promise<void>)[] = [];
  private closing: Promise<void> | null = null;

  push(cleanup: () => Promise<void>): void {
    this.stack.push(cleanup);
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      while (this.stack.length > 0) {
        try {
          await this.stack.pop()!();
        } catch (err) {
          log(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    })());
  }
}

/**
 * Starts the Temporal server (unless TEMPORAL_ADDRESS is set), the worker and API processes and the
 * receiver, registering each one's stop in `cleanups` as soon as it runs (so a signal or a failure
 * half-way still stops what was started).
 */
export async function startBenchEnv(
  cleanups: Cleanups,
  options: { profileDir: string | null; apiEnv?: Record<string, string> },
): Promise<BenchEnv> {
  const close = () => cleanups.close();

  try {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-bench-'));
    cleanups.push(() => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    });
    if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });
    const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';

    let address = process.env.TEMPORAL_ADDRESS ?? '';
    let serverPid: number | null = null;
    const external = address !== '';
    if (!external) {
      log('starting a Temporal dev server');
      let devServer: DevServer | null = null;
      // Its ports are picked free but taken a moment later: another process may take one meanwhile
      // (this machine is shared), so a failed start is tried again on other ports.
      for (let attempt = 1; !devServer; attempt++) {
        try {
          devServer = await startDevServer({
            dataDir: dir,
            namespace,
            port: await freePort(),
            uiPort: await freePort(),
            logger: createLogger('warn', 'hookline-bench'),
          });
        } catch (err) {
          if (attempt >= 3) throw err;
          log(`the dev server did not start (${describeError(err)}); trying again`);
        }
      }
      const started: DevServer = devServer;
      cleanups.push(() => started.stop());
      address = started.address;
      serverPid = Number(readFileSync(join(dir, 'temporal.pid'), 'utf8').trim()) || null;
    }

    const connection = await Connection.connect({ address });
    cleanups.push(() => connection.close());
    await registerSearchAttributes(connection, namespace);
    const client = new Client({ connection, namespace });

    const receiver = await Receiver.start();
    cleanups.push(() => receiver.close());

    const suffix = Date.now().toString(36);
    const taskQueue = `hookline-bench-${suffix}`;
    const tenant = (name: TenantName) => `${name}-${suffix}`;
    log('starting the worker process (bundling workflows) and the API process');
    const workerLog: WorkerLogEntry[] = [];
    const apiLog: WorkerLogEntry[] = [];
    // Both at once: the worker spends its start-up bundling, the API compiling the sources.
    // The worker's log file is shared by its successive processes (see restartWorker).
    const workerLogFile = join(dir, 'worker.log');
    const startWorkerProcess = () =>
      WorkerProcess.start(
        { role: 'hookline', address, namespace, taskQueue, maxCachedWorkflows: cacheSize() },
        workerLogFile,
        options.profileDir,
      );
    let worker: WorkerProcess | null = null;
    const current = () => {
      if (!worker) throw new Error('the worker process is not running');
      return worker;
    };
    const workerPids: number[] = [];
    cleanups.push(async () => {
      // (Null when its start failed: the start stopped it.)
      await worker?.stop();
      // The log goes with the temporary directory: keep its gist for the report.
      workerLog.push(...summarizeLog(workerLogFile));
      for (const entry of workerLog) log(`worker log: ${entry.count} × ${entry.level}: ${entry.message}`);
    });
    const [, api] = await Promise.all([
      (async () => {
        const started = await startWorkerProcess();
        worker = started;
        if (started.pid !== null) workerPids.push(started.pid);
      })(),
      (async () => {
        const a = await ApiProcess.start({
          address,
          namespace,
          taskQueue,
          port: await freePort(),
          tenants: TENANTS.map(tenant),
          logFile: join(dir, 'api.log'),
          dataDir: join(dir, 'api-data'),
          profileDir: options.profileDir,
          env: options.apiEnv,
        });
        cleanups.push(async () => {
          await a.stop();
          apiLog.push(...summarizeLog(a.logFile));
          for (const entry of apiLog) log(`api log: ${entry.count} × ${entry.level}: ${entry.message}`);
        });
        return a;
      })(),
    ]);

    // A second's worth of idle samples: the baseline the scenarios' RSS is compared with.
    await sleep(1_000);
    const workerIdle = await current().report();
    const apiIdleRssMb = api.rssMb();

    const measure = async <T>(fn: () => Promise<T>) => {
      await current().mark();
      const serverAt = serverPid === null ? null : procCpuMs(serverPid);
      const apiAt = api.cpuMs();
      const benchAt = process.cpuUsage();
      const wallAt = performance.now();
      const fromUs = monotonicUs();
      // The API's RSS is sampled from /proc while fn runs.
      let apiRss = api.rssMb();
      const sampler = setInterval(() => {
        const now = api.rssMb();
        if (now !== null && (apiRss === null || now > apiRss)) apiRss = now;
      }, 100);
      let value: T;
      try {
        value = await fn();
      } finally {
        clearInterval(sampler);
      }
      const toUs = monotonicUs();
      const wallMs = performance.now() - wallAt;
      const percent = (from: number | null, to: number | null) =>
        from !== null && to !== null ? round1(((to - from) / wallMs) * 100) : null;
      const bench = process.cpuUsage(benchAt);
      const resources: Resources = {
        worker: await current().report(),
        api: { rssMaxMb: apiRss, cpuPercent: percent(apiAt, api.cpuMs()) },
        serverCpuPercent: serverPid === null ? null : percent(serverAt, procCpuMs(serverPid)),
        benchCpuPercent: round1(((bench.user + bench.system) / 1000 / wallMs) * 100),
        window: { fromUs, toUs },
      };
      return { value, resources };
    };

    const restartWorker = async () => {
      await current().stop();
      worker = null;
      const started = await startWorkerProcess();
      worker = started;
      if (started.pid !== null) workerPids.push(started.pid);
      await sleep(1_000);
    };

    const startSink = async () => {
      const sinkTaskQueue = `hookline-bench-sink-${Date.now().toString(36)}`;
      const sink = await WorkerProcess.start(
        { role: 'sink', address, namespace, taskQueue: sinkTaskQueue },
        join(dir, 'sink.log'),
        null,
      );
      cleanups.push(() => sink.stop());
      return { taskQueue: sinkTaskQueue, stop: () => sink.stop() };
    };

    return {
      client,
      namespace,
      taskQueue,
      receiver,
      get worker() {
        return current();
      },
      api,
      tenant,
      temporal: { address, external, serverPid, cliVersion: external ? null : temporalCliVersion() },
      workerIdle,
      apiIdleRssMb,
      pids: { workers: workerPids, api: api.pid },
      workerLog,
      apiLog,
      measure,
      restartWorker,
      startSink,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Subscribers and events

/**
 * Backlog limits of the benchmark's subscribers: larger than the defaults, so the producer is seldom
 * refused. Hazard: the backlog travels in the continue-as-new input, which must stay under the 2 MB
 * payload limit, and that input is far larger than the backlog's event bytes: each queue entry adds
 * ~90 bytes of bookkeeping, and the dedupe hashes, recent attempts and delivered entries add ~730 KB
 * whatever the backlog. With this benchmark's ~200-byte events, maxBytes 1,500,000 makes a 2.7 MB
 * input: the worker fails every workflow task at continue-as-new and the subscriber stops for good.
 * 750,000 makes ~1.75 MB. `--backlog-bytes` overrides it (to reproduce that failure, for instance).
 */
export const BENCH_LIMITS: BacklogLimits = { maxEvents: 100_000, maxBytes: 750_000 };

/** A bench subscription: the test suite's defaults, tenant `bench`. */
export function makeSubscription(id: string, url: string): Subscription {
  return makeTestSubscription({ id, tenant: 'bench', url });
}

/** Events `from`..`from+n-1`, each carrying its send time (`data.sentAt`, ms since the epoch). */
export function makeEvents(prefix: string, from: number, n: number): HooklineEvent[] {
  const sentAt = nowMs();
  const time = new Date(sentAt).toISOString();
  return Array.from({ length: n }, (_, k) => ({
    id: `${prefix}-${from + k}`,
    type: 'order.created',
    source: 'bench',
    subject: `orders/${from + k}`,
    category: null,
    labels: {},
    time,
    data: { n: from + k, sentAt },
  }));
}

export type SubscriberHandle = WorkflowHandle<typeof subscriberWorkflow>;

/** Starts a subscriber workflow the way the API will (search attributes included). */
export async function startSubscriber(
  env: BenchEnv,
  subscription: Subscription,
  limits: BacklogLimits,
): Promise<SubscriberHandle> {
  return env.client.workflow.start(subscriberWorkflow, {
    taskQueue: env.taskQueue,
    workflowId: subscriberWorkflowId(subscription.id),
    args: [
      {
        subscription,
        secrets: [{ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', expiresAt: null }],
        limits,
      },
    ],
    typedSearchAttributes: [
      { key: SA.subscriptionId, value: subscription.id },
      { key: SA.tenant, value: subscription.tenant },
      { key: SA.status, value: subscription.status },
    ],
  });
}

/** Ends subscribers with the delete signal and waits (bounded) for them to finish. */
export async function deleteSubscribers(handles: SubscriberHandle[]): Promise<void> {
  await Promise.all(
    handles.map(async (handle) => {
      try {
        await handle.signal(deleteSignal);
        await Promise.race([handle.result(), sleep(30_000)]);
      } catch (err) {
        log(`could not end ${handle.workflowId}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
  );
}

function isBacklogFull(err: unknown): boolean {
  return (
    err instanceof WorkflowUpdateFailedError &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === 'BacklogFull'
  );
}

export interface ProduceOptions {
  /** Event id prefix, unique per case. */
  prefix: string;
  total: number;
  /** Events per enqueue update. */
  chunk: number;
  /** Updates kept in flight at once (the server allows 10 in flight per workflow). */
  inFlight: number;
  /** ms to wait after a BacklogFull refusal before trying the same chunk again. */
  backoffMs?: number;
}

export interface ProduceResult {
  refusals: number;
  updates: number;
  /** ms since the epoch when the last update was accepted. */
  doneAt: number;
}

/**
 * Enqueues `total` events in chunks with `inFlight` updates outstanding. A refused chunk (BacklogFull)
 * is retried after a pause, with fresh send times: latency runs from the publish that was accepted.
 */
export async function produce(handle: SubscriberHandle, opts: ProduceOptions): Promise<ProduceResult> {
  const backoffMs = opts.backoffMs ?? 100;
  let next = 0;
  let refusals = 0;
  let updates = 0;
  const lane = async () => {
    while (next < opts.total) {
      const from = next;
      const n = Math.min(opts.chunk, opts.total - from);
      next += n;
      for (;;) {
        try {
          await handle.executeUpdate(enqueueUpdate, { args: [{ events: makeEvents(opts.prefix, from, n) }] });
          updates++;
          break;
        } catch (err) {
          if (!isBacklogFull(err)) throw err;
          refusals++;
          await sleep(backoffMs);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: opts.inFlight }, lane));
  return { refusals, updates, doneAt: nowMs() };
}

/** Runs `task` over `items` with at most `concurrency` at once. */
export async function pool<T>(
  items: T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

/** A case fails when nothing arrives at the receiver for this long. */
export const STALL_MS = 60_000;
/** After this long without progress, the workflows are asked whether their workflow tasks fail. */
const CHECK_AFTER_MS = 5_000;

/**
 * Waits for `work` (the producers) and for `expected` events at the receiver. Fails at once when a
 * producer fails, after a few seconds without progress when a subscriber's workflow task is failing
 * (it would be retried forever), and after STALL_MS without progress otherwise. The error then says
 * what the workflows' histories say. Nothing is asked of the server while events keep arriving.
 */
export async function untilDelivered<T>(
  receiver: Receiver,
  expected: number,
  work: Promise<T>,
  handles: WorkflowHandle[],
): Promise<T> {
  let failed = false;
  const guarded = work.catch((err: unknown) => {
    failed = true;
    throw err;
  });
  const waiting = (async () => {
    let seen = receiver.stats.events;
    let progressAt = Date.now();
    let checkedAt = Date.now();
    while (receiver.stats.events < expected && !failed) {
      await sleep(20);
      const now = Date.now();
      if (receiver.stats.events !== seen) {
        seen = receiver.stats.events;
        progressAt = checkedAt = now;
      } else if (now - progressAt > STALL_MS) {
        throw new Error(
          `receiver: ${seen} of ${expected} events arrived, none in the last ${STALL_MS / 1000} s`,
        );
      } else if (now - checkedAt > CHECK_AFTER_MS) {
        checkedAt = now;
        if ((await failingWorkflowTasks(handles)).length > 0) {
          throw new Error(`receiver: ${seen} of ${expected} events arrived, then none`);
        }
      }
    }
  })();
  try {
    const [value] = await Promise.all([guarded, waiting]);
    return value;
  } catch (err) {
    const failures = await failingWorkflowTasks(handles);
    if (failures.length === 0) throw err;
    throw new Error(`${describeError(err)}; workflow task failing: ${failures.join('; ')}`);
  }
}

/** How many runs (1 + continue-as-new) a workflow id has had; null when visibility cannot tell. */
export async function runCount(env: BenchEnv, workflowId: string): Promise<number | null> {
  try {
    let runs = 0;
    for await (const _ of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs++;
    return runs;
  } catch {
    return null;
  }
}

/** An error and its causes on one line: `ServiceError: Workflow Update failed ← 9 FAILED_PRECONDITION: …`. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e; depth++) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : JSON.stringify(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(' ← ');
}

/**
 * The workflows (at most the first 10) whose workflow task is failing, each with its reason: the
 * last WorkflowTaskFailed of its history (read newest first and in small pages, since a subscriber's
 * history easily exceeds the client's 4 MB message limit).
 */
export async function failingWorkflowTasks(handles: WorkflowHandle[]): Promise<string[]> {
  const out: string[] = [];
  for (const handle of handles.slice(0, 10)) {
    try {
      const { raw } = await handle.describe();
      const attempt = raw.pendingWorkflowTask?.attempt ?? 0;
      if (attempt < 2) continue;
      const service = handle.client.workflowService;
      const namespace = handle.client.options.namespace;
      let reason = 'reason not found in the history';
      let nextPageToken: Uint8Array | undefined;
      for (let page = 0; page < 10; page++) {
        const res = await service.getWorkflowExecutionHistoryReverse({
          namespace,
          execution: { workflowId: handle.workflowId },
          maximumPageSize: 20,
          nextPageToken,
        });
        const failedTask = res.history?.events?.find((e) => e.workflowTaskFailedEventAttributes);
        if (failedTask) {
          reason = failedTask.workflowTaskFailedEventAttributes?.failure?.message ?? 'no message';
          break;
        }
        if (!res.nextPageToken?.length) break;
        nextPageToken = res.nextPageToken;
      }
      out.push(`${handle.workflowId} (attempt ${attempt}): ${reason}`);
    } catch (err) {
      log(`could not inspect ${handle.workflowId}: ${describeError(err)}`);
    }
  }
  return out;
}
