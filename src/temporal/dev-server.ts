import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { sleep, StartupError } from '../lifecycle';
import type { Logger } from '../logger';
import { describeListenError, holdsLoopbackListener, listenError } from '../net/ports';
import { requireTemporalBinary } from './binaries';

export interface DevServerOptions {
  dataDir: string;
  namespace: string;
  /** gRPC frontend port. */
  port: number;
  /** Web UI port. */
  uiPort: number;
  logger: Logger;
  /** URL of a codec server the Web UI calls to decode payloads (`--ui-codec-endpoint`). */
  uiCodecEndpoint?: string;
  /** SQLite's `synchronous` for the dev server's database (WAL mode): see SQLITE_SYNCHRONOUS. */
  sqliteSynchronous?: 'normal' | 'full';
  /** Extra `--dynamic-config-value KEY=VALUE` settings. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Longest wait for the frontend port to open, in ms (default 60 s). */
  timeoutMs?: number;
  /** Aborting it stops the wait (and the child): a signal during start-up. */
  signal?: AbortSignal;
  /** Called when the dev server exited and could not be started again (see RESTART_BACKOFF_MS). */
  onGiveUp?: () => void;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A dev server left behind by a process that was SIGKILLed still holds the SQLite file and the ports.
 * Its pid is in `$DATA_DIR/temporal.pid`; end it (only if it is really a `temporal server` process).
 */
async function stopLeftover(pidFile: string, logger: Logger): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // not Linux, or gone: leave it alone
  }
  if (!cmdline.includes('start-dev')) return;
  logger.warn({ devServerPid: pid }, 'stopping a dev server left behind by an earlier run');
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * Waits until `child` listens on `port`. The listener must be the child's: an open port while the
 * child has exited, or (on Linux, where /proc tells) a listener held by another process, is an
 * error, never a silent join of someone else's server.
 */
async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, signal?: AbortSignal) {
  const deadline = Date.now() + timeoutMs;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  while (Date.now() < deadline) {
    if (exited()) {
      throw new StartupError(
        `the temporal dev server exited (${child.exitCode ?? child.signalCode}) before it opened port ${port}; see temporal.log in DATA_DIR`,
      );
    }
    if (await accepts(port)) {
      const ours = child.pid === undefined ? null : holdsLoopbackListener(child.pid, port);
      if (ours === true || (ours === null && !exited())) return;
      if (ours === false && !exited()) {
        throw new StartupError(
          `${portTaken(port, 'TEMPORAL_DEV_PORT')} (taken while the dev server started)`,
        );
      }
    }
    await sleep(200, signal);
  }
  throw new StartupError(`the temporal dev server did not open port ${port} within ${timeoutMs} ms`);
}

function portTaken(port: number, setting: string): string {
  return `${describeListenError('EADDRINUSE', port, setting)}: another Temporal server? set ${setting} or TEMPORAL_ADDRESS`;
}

/** Refuses to start when a port the dev server needs is taken: it would fail, or we would join another. */
async function checkPortsFree(ports: { port: number; setting: string }[]): Promise<void> {
  for (const { port, setting } of ports) {
    const code = await listenError(port, '127.0.0.1');
    if (code === 'EADDRINUSE') throw new StartupError(portTaken(port, setting));
    if (code !== null) throw new StartupError(describeListenError(code, port, setting));
  }
}

/** Restarts after an unexpected exit wait this long, in turn; one more failure stops the process. */
export const RESTART_BACKOFF_MS = [500, 1_000, 2_000, 4_000, 8_000];
/** A dev server that ran this long before it exited starts the count of restarts afresh. */
const STABLE_MS = 60_000;

/**
 * Starts `temporal server start-dev` with its SQLite file in `dataDir`, so a restart keeps every
 * workflow. Its output goes to `$DATA_DIR/temporal.log`. Should it exit on its own later (killed,
 * crashed), it is started again on the same file and ports, after RESTART_BACKOFF_MS; workers and
 * clients reconnect by themselves. When those restarts fail, `onGiveUp` is told.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const binary = requireTemporalBinary('cli');
  mkdirSync(opts.dataDir, { recursive: true });
  const pidFile = join(opts.dataDir, 'temporal.pid');
  await stopLeftover(pidFile, opts.logger);
  await checkPortsFree([
    { port: opts.port, setting: 'TEMPORAL_DEV_PORT' },
    { port: opts.uiPort, setting: 'TEMPORAL_UI_PORT' },
  ]);
  const args = devServerArgs(opts);

  let current: Launched | null = null;
  /** Aborted by stop(): no restart after it. */
  const quit = new AbortController();
  // However this process ends (a second signal exits at once), the dev server does not outlive it.
  const killOnExit = () => {
    if (current?.running()) current.child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const launch = async (): Promise<void> => {
    const launched = spawnDevServer(binary, args, opts.dataDir);
    current = launched;
    if (launched.child.pid) writeFileSync(pidFile, String(launched.child.pid));
    try {
      await waitForPort(opts.port, launched.child, opts.timeoutMs ?? 60_000, opts.signal);
    } catch (err) {
      // Nothing was served yet: no need for a graceful stop.
      launched.child.kill('SIGKILL');
      await launched.exited;
      throw err;
    }
  };

  try {
    await launch();
  } catch (err) {
    process.removeListener('exit', killOnExit);
    rmSync(pidFile, { force: true });
    throw err;
  }
  opts.logger.info({ devServerPid: current!.child.pid, binary }, 'temporal dev server started');

  // Once this process stops (a signal: Ctrl-C reaches the dev server too), an exit is expected.
  const over = () => quit.signal.aborted || opts.signal?.aborted === true;
  // Every exit of the running child, or of one that failed to come up, passes through here once.
  const supervising = (async () => {
    let restarts = 0;
    for (;;) {
      const ran = current!;
      const startedAt = Date.now();
      await ran.exited;
      if (over()) return;
      if (Date.now() - startedAt >= STABLE_MS) restarts = 0;
      const how = { code: ran.child.exitCode, signal: ran.child.signalCode };
      if (restarts >= RESTART_BACKOFF_MS.length) {
        opts.logger.error({ ...how, restarts }, 'the temporal dev server keeps exiting; giving up');
        opts.onGiveUp?.();
        return;
      }
      const waitMs = RESTART_BACKOFF_MS[restarts++]!;
      opts.logger.error({ ...how, restartInMs: waitMs }, 'the temporal dev server exited; restarting it');
      await sleep(waitMs, quit.signal).catch(() => undefined);
      if (over()) return;
      try {
        await launch();
        opts.logger.warn({ devServerPid: current!.child.pid, restarts }, 'temporal dev server restarted');
      } catch (err) {
        if (over()) return;
        // `current` is the child that failed, gone already: the next round waits no longer.
        opts.logger.error({ err }, 'the temporal dev server did not come back');
      }
    }
  })();

  return {
    address: `127.0.0.1:${opts.port}`,
    uiUrl: `http://localhost:${opts.uiPort}`,
    async stop() {
      quit.abort();
      const last = current!;
      if (last.running()) {
        last.child.kill('SIGTERM');
        const timer = setTimeout(() => last.child.kill('SIGKILL'), 10_000);
        await last.exited;
        clearTimeout(timer);
      }
      await supervising;
      process.removeListener('exit', killOnExit);
      rmSync(pidFile, { force: true });
    },
  };
}

interface Launched {
  child: ChildProcess;
  exited: Promise<void>;
  running(): boolean;
}

function spawnDevServer(binary: string, args: string[], dataDir: string): Launched {
  const log = openSync(join(dataDir, 'temporal.log'), 'a');
  const child = spawn(binary, args, { stdio: ['ignore', log, log] });
  closeSync(log); // the child has its own copy
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited, running: () => child.exitCode === null && child.signalCode === null };
}

function devServerArgs(opts: DevServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    join(opts.dataDir, 'temporal.db'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--namespace',
    opts.namespace,
    '--log-level',
    'warn',
    // WAL: readers never wait for the writer, and a commit is one append. NORMAL syncs at checkpoints,
    // not at every commit: a commit survives a crash of any process, not a power loss (FULL does).
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    `synchronous=${opts.sqliteSynchronous === 'full' ? 'FULL' : 'NORMAL'}`,
  ];
  if (opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  for (const [key, value] of Object.entries(opts.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return args;
}
