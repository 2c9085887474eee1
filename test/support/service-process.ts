import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Runs `src/main.ts` as `npm start` does (node --import tsx), with the given environment. */
export function spawnService(env: Record<string, string>, args: string[] = []): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'main.ts'), ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/**
 * Runs `npm run <script>` (`start`, `start:api`, `start:worker`) as an operator would, so signals
 * reach the service through npm. `child` is the npm process; `servicePid()` reads node's own pid
 * from its first JSON log line.
 */
export function spawnNpm(
  script: string,
  env: Record<string, string>,
): ServiceProcess & { servicePid: () => number | null } {
  const child = spawn('npm', ['run', script], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const servicePid = () => {
    const match = /^\{.*?"pid":(\d+)/m.exec(out);
    return match ? Number(match[1]) : null;
  };
  return { child, output: () => out, exited, servicePid };
}

/** The exit code when `proc` exits within `ms`, else 'still running'. */
export async function exitWithin(
  proc: Pick<ServiceProcess, 'exited'>,
  ms: number,
): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'still running'>(
    (resolve) => (timer = setTimeout(() => resolve('still running'), ms)),
  );
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Pids of the processes whose command line mentions `path` (Linux /proc): a dev server of a test's
 * DATA_DIR shows its `--db-filename` there, whoever started it.
 */
export function processesMentioning(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (
        readFileSync(`/proc/${entry}/cmdline`, 'utf8')
          .split('\0')
          .some((arg) => arg.includes(path))
      ) {
        pids.push(Number(entry));
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/** Polls until `check` holds or `ms` pass; answers whether it held. */
export async function eventually(check: () => boolean, ms: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Polls `url` until it answers `status`, or fails after `timeoutMs`; fails early when `proc` exits.
 * Each request waits 5 s at most, so a hung server cannot hold a poll past the deadline.
 */
export async function waitForStatus(
  url: string,
  status: number,
  timeoutMs: number,
  proc?: Pick<ServiceProcess, 'child' | 'output'>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (proc && proc.child.exitCode !== null) {
      throw new Error(`service exited with ${proc.child.exitCode}:\n${proc.output()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      last = `${res.status}`;
      if (res.status === status) return;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})\n${proc?.output() ?? ''}`,
  );
}

/** The embedded dev server's pid, from `$DATA_DIR/temporal.pid`. */
export function devServerPid(dataDir: string): number | null {
  const file = join(dataDir, 'temporal.pid');
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** A JSON call to a running service. */
export async function api(
  baseUrl: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
