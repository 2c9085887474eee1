/**
 * Shared setup of `npm run bench`: an environment is a Temporal server, a store, the service as
 * separate API and worker processes (src/main.ts --api-only / --worker-only) and the loopback
 * receiver. Two kinds:
 * - `embedded` (the default shape of `npm start`): the project's embedded dev server
 *   (src/temporal/dev-server.ts, SQLite in WAL mode) and the SQLite store, in a temporary directory;
 * - `stack` (issue #15): the real Temporal server on PostgreSQL of scripts/stack.sh (brought up when
 *   it is not), with a fresh PostgreSQL database for this run's store.
 * Both run one task queue and tenant names of their own, so nothing of another run is in the figures.
 */
import { execFileSync, fork } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Histogram } from 'hdr-histogram-js';
import pg from 'pg';
import type { HooklineEvent } from '../src/domain/types';
import { createLogger } from '../src/logger';
import { startDevServer } from '../src/temporal/dev-server';
import { registerSearchAttributes } from '../src/temporal/setup';
import { procChildren, procCpuMs, procPssBytes, procRssBytes } from './proc';
import { nowMs, type Receiver } from './receiver';
import { Api, ServiceProcess } from './service';
import { callDelta, findMetricsUrl, NOT_COST, scrapeCalls, sumCalls, type CallCounts } from './temporal-cost';

/** Progress goes to stderr, so stdout holds only the report. */
export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const round1 = (n: number) => Math.round(n * 10) / 10;

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

/** The monotonic clock in µs: the time base of V8 CPU profiles. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
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

/** A histogram of µs, in ms. */
export function summarizeLatency(h: Histogram): LatencySummary {
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

/** CPU (% of one core, over the measured window) and largest sampled memory (MiB) of a process group. */
export interface ProcUsage {
  cpuPercent: number | null;
  memMaxMb: number | null;
}

/** Where the time went in a measured window, and what Temporal was asked. */
export interface Resources {
  /** api, worker, temporal, postgres (stack), bench (this process: producers and receiver). */
  procs: Record<string, ProcUsage>;
  /** Frontend calls by operation in the window; null when the server's metrics are not reachable. */
  calls: CallCounts | null;
  /**
   * PostgreSQL (stack): what the store's sessions were doing, sampled every 50 ms from
   * pg_stat_activity: `state` or `state:wait_event_type/wait_event` → sessions in it, on average.
   */
  pgActivity?: Record<string, number>;
  window: { fromUs: number; toUs: number };
}

/** One row of the table (and of the JSON). Absent figures print as `-`. */
export interface CaseResult {
  /** The environment: `embedded`, `stack`, `stack 1 worker`. */
  env?: string;
  scenario: string;
  case: string;
  params: Record<string, number | string | boolean>;
  events?: number;
  /** Delivered (or POSTed) events per second. */
  eventsPerSec?: number;
  /** Events per second the API accepted (202). */
  publishedPerSec?: number;
  /** Requests per second: POSTs, registrations, signals. */
  opsPerSec?: number;
  posts?: number;
  meanBatchFill?: number;
  latency?: LatencySummary;
  wallSec?: number;
  /** Publishes refused (503/429). */
  refusals?: number;
  /** Events received out of publish order at their subscription. */
  outOfOrder?: number;
  resources?: Resources;
  /** Temporal's cost per delivered event in the window. */
  temporal?: { callsPerEvent: number | null; historyEventsPerEvent: number | null };
  /** 1-minute load average before→after the scenario (the machine is shared). */
  load?: string;
  /** One line printed under the table. */
  note?: string;
  extra?: Record<string, unknown>;
}

export interface ScenarioContext {
  env: BenchEnv;
  quick: boolean;
  /** `--case` filters (substrings of case labels); empty: every case. */
  cases: string[];
  idleSubs?: number;
  outageSec?: number;
}

export type Scenario = (ctx: ScenarioContext) => Promise<CaseResult[]>;

/** Whether a case runs under the `--case` filters. */
export function selected(ctx: ScenarioContext, label: string): boolean {
  return ctx.cases.length === 0 || ctx.cases.some((c) => label.includes(c));
}

/** An error and its causes on one line. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e; depth++) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : JSON.stringify(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(' ← ');
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

/** Events `from`..`from+n-1` (for the ceilings: the bytes a delivery carries). */
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
          log(`cleanup failed: ${describeError(err)}`);
        }
      }
    })());
  }
}

// ---------------------------------------------------------------------------------------------
// The environment

/** The bench's tenants; a run suffix keeps them fresh. Each case uses its own. */
export const TENANTS = ['e2e', 'e2e-1w', 'fanout', 'outage', 'idle'] as const;
export type TenantName = (typeof TENANTS)[number];

/** The bench's API key of a tenant (>= 16 characters, as API_KEYS requires). */
export function apiKeyOf(tenant: string): string {
  return `bench-key-${tenant}-0123456789abcdef`;
}

export interface BenchEnv {
  label: string;
  kind: 'embedded' | 'stack';
  client: Client;
  namespace: string;
  taskQueue: string;
  receiver: Receiver;
  api: Api;
  apis: ServiceProcess[];
  workers: ServiceProcess[];
  tenant(name: TenantName): string;
  temporal: { address: string; pid: number | null; metricsUrl: string | null };
  postgresPid: number | null;
  /** RSS (MiB) of each process once started and idle (no subscriptions yet). */
  idleMemMb: Record<string, number | null>;
  /** Runs `fn` and measures every process group's CPU and memory, and Temporal's calls, around it. */
  measure<T>(fn: () => Promise<T>): Promise<{ value: T; resources: Resources }>;
  /** Memory (MiB) of each process group now: RSS, PSS summed over PostgreSQL's processes. */
  memNow(): Record<string, number | null>;
  /** Runs this many worker processes from now on (stops the last ones, or starts more). */
  setWorkers(n: number): Promise<void>;
  /** Starts a signal-sink worker process (bench/workflows.ts) on its own task queue. */
  startSink(): Promise<{ taskQueue: string; stop(): Promise<void> }>;
}

export interface EnvOptions {
  receiver: Receiver;
  profileDir: string | null;
  apis: number;
  workers: number;
}

const MiB = 1024 * 1024;

/** Shared by both kinds: the service's processes and the measuring around them. */
async function startService(
  cleanups: Cleanups,
  base: {
    kind: 'embedded' | 'stack';
    dir: string;
    address: string;
    namespace: string;
    temporalPid: number | null;
    metricsUrl: string | null;
    postgresPid: number | null;
    env: Record<string, string>;
  },
  opts: EnvOptions,
): Promise<BenchEnv> {
  const suffix = Date.now().toString(36);
  const taskQueue = `hookline-bench-${suffix}`;
  const tenant = (name: TenantName) => `${name}-${suffix}`;
  const connection = await Connection.connect({ address: base.address });
  cleanups.push(() => connection.close());
  const client = new Client({ connection, namespace: base.namespace });
  const env: Record<string, string> = {
    ...base.env,
    TEMPORAL_ADDRESS: base.address,
    TEMPORAL_NAMESPACE: base.namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    API_KEYS: TENANTS.map((t) => `${tenant(t)}:${apiKeyOf(tenant(t))}`).join(','),
    ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
  };

  const apis: ServiceProcess[] = [];
  const workers: ServiceProcess[] = [];
  cleanups.push(async () => {
    await Promise.all([...apis, ...workers].map((p) => p.stop()));
  });
  const spawnWorker = async (n: number) => {
    const w = ServiceProcess.spawn({
      role: 'worker',
      env,
      logFile: join(base.dir, `worker-${n}.log`),
      profileDir: opts.profileDir,
    });
    workers.push(w);
    await w.until(() => Promise.resolve(w.logged('worker polling')), 180_000);
  };
  const urls: string[] = [];
  const api = new Api(urls, apiKeyOf);
  cleanups.push(() => api.close());
  log(`${base.kind}: starting ${opts.apis} API and ${opts.workers} worker process(es)`);
  await Promise.all([
    ...Array.from({ length: opts.workers }, (_, i) => spawnWorker(i + 1)),
    ...Array.from({ length: opts.apis }, async (_, i) => {
      const port = await freePort();
      const a = ServiceProcess.spawn({
        role: 'api',
        env: { ...env, PORT: String(port) },
        logFile: join(base.dir, `api-${i + 1}.log`),
        profileDir: opts.profileDir,
      });
      apis.push(a);
      const url = `http://127.0.0.1:${port}`;
      await a.until(() => api.ok(url, '/healthz'), 180_000);
      urls.push(url);
    }),
  ]);
  await sleep(1_000);

  const postgresPids = () =>
    base.postgresPid === null ? [] : [base.postgresPid, ...procChildren(base.postgresPid)];
  const groups = (): Record<string, { pids: number[]; reapedOf?: number; pss?: boolean }> => ({
    api: { pids: apis.filter((p) => p.running).map((p) => p.pid!) },
    worker: { pids: workers.filter((p) => p.running).map((p) => p.pid!) },
    ...(base.temporalPid !== null ? { temporal: { pids: [base.temporalPid] } } : {}),
    ...(base.postgresPid !== null
      ? { postgres: { pids: postgresPids(), reapedOf: base.postgresPid, pss: true } }
      : {}),
    bench: { pids: [process.pid] },
  });
  const cpuNow = () =>
    Object.fromEntries(
      Object.entries(groups()).map(([name, g]) => [
        name,
        g.pids.reduce((sum, pid) => sum + (procCpuMs(pid, pid === g.reapedOf) ?? 0), 0),
      ]),
    );
  const memNow = () =>
    Object.fromEntries(
      Object.entries(groups()).map(([name, g]) => {
        let bytes = 0;
        for (const pid of g.pids) bytes += (g.pss ? procPssBytes(pid) : procRssBytes(pid)) ?? 0;
        return [name, bytes > 0 ? round1(bytes / MiB) : null];
      }),
    );
  const calls = async () => (base.metricsUrl ? scrapeCalls(base.metricsUrl).catch(() => null) : null);
  const pgSampler = base.env.DATABASE_URL ? await PgSampler.connect(base.env.DATABASE_URL) : null;
  if (pgSampler) cleanups.push(() => pgSampler.close());

  const idleMemMb = memNow();
  const label = base.kind === 'embedded' ? 'embedded' : `stack`;
  return {
    label,
    kind: base.kind,
    client,
    namespace: base.namespace,
    taskQueue,
    receiver: opts.receiver,
    api,
    apis,
    workers,
    tenant,
    temporal: { address: base.address, pid: base.temporalPid, metricsUrl: base.metricsUrl },
    postgresPid: base.postgresPid,
    idleMemMb,
    memNow,
    async measure(fn) {
      // The server's metrics are reported about once a second: settle before each reading.
      await sleep(1_100);
      const cpuAt = cpuNow();
      const callsAt = await calls();
      const wallAt = performance.now();
      const fromUs = monotonicUs();
      const memMax: Record<string, number | null> = memNow();
      const sampler = setInterval(() => {
        for (const [name, mb] of Object.entries(memNow())) {
          if (mb !== null && (memMax[name] == null || mb > memMax[name])) memMax[name] = mb;
        }
      }, 250);
      pgSampler?.start();
      let value;
      try {
        value = await fn();
      } finally {
        clearInterval(sampler);
      }
      const pgActivity = await pgSampler?.stop();
      const toUs = monotonicUs();
      const wallMs = performance.now() - wallAt;
      const cpuTo = cpuNow();
      await sleep(1_100);
      const callsTo = await calls();
      const procs: Record<string, ProcUsage> = {};
      for (const name of Object.keys(cpuTo)) {
        procs[name] = {
          cpuPercent: round1((((cpuTo[name] ?? 0) - (cpuAt[name] ?? 0)) / wallMs) * 100),
          memMaxMb: memMax[name] ?? null,
        };
      }
      return {
        value,
        resources: {
          procs,
          calls: callsAt && callsTo ? callDelta(callsAt, callsTo) : null,
          ...(pgActivity ? { pgActivity } : {}),
          window: { fromUs, toUs },
        },
      };
    },
    async setWorkers(n) {
      while (workers.filter((w) => w.running).length > n) {
        const w = workers.filter((x) => x.running).pop()!;
        log(`${label}: stopping worker ${w.pid}`);
        await w.stop();
      }
      for (let i = workers.filter((w) => w.running).length; i < n; i++) await spawnWorker(workers.length + 1);
    },
    async startSink() {
      const sinkQueue = `${taskQueue}-sink`;
      const out = openSync(join(base.dir, 'sink.log'), 'a');
      const child = fork(join(__dirname, 'sink-process.ts'), [], {
        execArgv: ['--import', 'tsx'],
        env: {
          ...process.env,
          HOOKLINE_BENCH_SINK: JSON.stringify({
            address: base.address,
            namespace: base.namespace,
            taskQueue: sinkQueue,
          }),
        },
        stdio: ['ignore', out, out, 'ipc'],
      });
      closeSync(out);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const stop = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (child.connected) child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      };
      cleanups.push(stop);
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) => reject(new Error(`the sink worker exited with code ${code}`)));
      });
      return { taskQueue: sinkQueue, stop };
    },
  };
}

/** The embedded default: the project's dev server and the SQLite store, in a temporary directory. */
export async function startEmbedded(cleanups: Cleanups, opts: EnvOptions): Promise<BenchEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-bench-'));
  cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  const temporalDir = join(dir, 'temporal');
  const namespace = 'default';
  log('embedded: starting the dev server (SQLite, WAL)');
  const devServer = await startDevServer({
    dataDir: temporalDir,
    namespace,
    port: await freePort(),
    uiPort: await freePort(),
    logger: createLogger('warn', 'hookline-bench'),
    sqliteSynchronous: 'normal',
  });
  cleanups.push(() => devServer.stop());
  const temporalPid = Number(readFileSync(join(temporalDir, 'temporal.pid'), 'utf8').trim()) || null;
  const connection = await Connection.connect({ address: devServer.address });
  await registerSearchAttributes(connection, namespace);
  await connection.close();
  const metricsUrl = temporalPid === null ? null : await findMetricsUrl(temporalPid);
  return startService(
    cleanups,
    {
      kind: 'embedded',
      dir,
      address: devServer.address,
      namespace,
      temporalPid,
      metricsUrl,
      postgresPid: null,
      // One DATA_DIR for every process: the SQLite store is one file (WAL) they all open.
      env: { DATA_DIR: join(dir, 'data') },
    },
    opts,
  );
}

/** Samples the store's sessions in pg_stat_activity (its own connection left out). */
class PgSampler {
  private timer: NodeJS.Timeout | null = null;
  private counts = new Map<string, number>();
  private samples = 0;
  private busy = false;

  private constructor(private readonly client: pg.Client) {}

  static async connect(url: string): Promise<PgSampler> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new PgSampler(client);
  }

  start(): void {
    this.counts.clear();
    this.samples = 0;
    this.timer = setInterval(() => void this.sample(), 50);
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const { rows } = await this.client.query<{
        state: string | null;
        wt: string | null;
        we: string | null;
      }>(
        `SELECT state, wait_event_type AS wt, wait_event AS we FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
      );
      this.samples++;
      for (const r of rows) {
        const key = `${r.state ?? '?'}${r.wt ? `:${r.wt}/${r.we ?? ''}` : ''}`;
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      }
    } catch {
      // a sample lost: the share is over the samples taken
    } finally {
      this.busy = false;
    }
  }

  /** Sessions in each state, on average per sample (1.0 = one session in it all the time). */
  async stop(): Promise<Record<string, number>> {
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await sleep(5);
    return Object.fromEntries(
      [...this.counts.entries()]
        .map(([k, n]) => [k, Math.round((n / Math.max(1, this.samples)) * 100) / 100] as const)
        .filter(([k]) => !k.startsWith('idle:Client/ClientRead'))
        .sort((a, b) => b[1] - a[1]),
    );
  }

  close(): Promise<void> {
    return this.client.end().catch(() => undefined);
  }
}

/** KEY=value lines of a file (the stack's .stack/env). */
function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  }
  return out;
}

/**
 * The stack of scripts/stack.sh: `status`, and `up` when it is not up. This run's own API and worker
 * processes (not the stack's) on its own task queue, and its store in a fresh database of the stack's
 * PostgreSQL (created by the `postgres` superuser, dropped afterwards), so that the reconciler sees
 * only this run's subscriptions.
 */
export async function startStack(cleanups: Cleanups, opts: EnvOptions): Promise<BenchEnv> {
  const root = join(__dirname, '..');
  const stackDir = join(root, '.stack');
  const script = join(root, 'scripts', 'stack.sh');
  const status = () => {
    try {
      execFileSync('bash', [script, 'status'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (!existsSync(join(stackDir, 'env')) || !status()) {
    // Its own Hookline processes are not needed: this run starts its own.
    log('stack: not up; bash scripts/stack.sh up (STACK_APIS=0 STACK_WORKERS=0, STACK_UI=0)');
    execFileSync('bash', [script, 'up'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, STACK_APIS: '0', STACK_WORKERS: '0', STACK_UI: process.env.STACK_UI ?? '0' },
    });
  }
  const stackEnv = readEnvFile(join(stackDir, 'env'));
  const temporalPid =
    Number(readFileSync(join(stackDir, 'run', 'temporal.pid'), 'utf8').split(/\s/)[0]) || null;
  const postgresPid =
    Number(readFileSync(join(stackDir, 'pg', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]) || null;
  const db = `hookline_bench_${Date.now().toString(36)}`;
  const psql = (sql: string) =>
    execFileSync(
      'runuser',
      [
        '-u',
        'postgres',
        '--',
        join(pgBinDir(), 'psql'),
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        join(stackDir, 'pg', 'socket'),
        '-p',
        stackEnv.STACK_PG_PORT!,
        '-d',
        'postgres',
        '-c',
        sql,
      ],
      { cwd: '/', stdio: ['ignore', 'ignore', 'inherit'] },
    );
  psql(`CREATE DATABASE ${db} OWNER hookline`);
  cleanups.push(() =>
    Promise.resolve(psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)).then(() => undefined),
  );
  const url = new URL(stackEnv.DATABASE_URL!);
  url.pathname = `/${db}`;
  const dir = mkdtempSync(join(tmpdir(), 'hookline-bench-stack-'));
  cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  mkdirSync(join(dir, 'data'));
  const env = await startService(
    cleanups,
    {
      kind: 'stack',
      dir,
      address: stackEnv.TEMPORAL_ADDRESS!,
      namespace: stackEnv.TEMPORAL_NAMESPACE ?? 'default',
      temporalPid,
      metricsUrl: stackEnv.STACK_TEMPORAL_METRICS_URL ?? null,
      postgresPid,
      env: { DATA_DIR: join(dir, 'data'), DATABASE_URL: url.toString() },
    },
    opts,
  );
  // The run's workflows outlive its workers on a server that stays up: end them (asynchronously).
  cleanups.push(async () => {
    await env.client.workflowService
      .startBatchOperation({
        namespace: env.namespace,
        jobId: `${env.taskQueue}-cleanup`,
        visibilityQuery: `TaskQueue = '${env.taskQueue}' AND ExecutionStatus = 'Running'`,
        reason: 'bench run over',
        terminationOperation: {},
      })
      .catch((err: unknown) => log(`stack: could not terminate this run's workflows: ${describeError(err)}`));
  });
  return env;
}

/** Debian's newest PostgreSQL binaries (what scripts/stack.sh runs). */
function pgBinDir(): string {
  const versions = execFileSync('ls', ['/usr/lib/postgresql'], { encoding: 'utf8' })
    .split('\n')
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

/** Temporal's cost per delivered event from a window's calls and the history events it added. */
export function temporalCost(
  resources: Resources,
  delivered: number,
  historyEvents: number | null,
): { callsPerEvent: number | null; historyEventsPerEvent: number | null } {
  const per = (n: number) => (delivered > 0 ? Math.round((n / delivered) * 1000) / 1000 : null);
  return {
    callsPerEvent: resources.calls ? per(sumCalls(resources.calls, NOT_COST)) : null,
    historyEventsPerEvent: historyEvents === null ? null : per(historyEvents),
  };
}
