import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../logger';
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
  /** Extra `--dynamic-config-value KEY=VALUE` settings. */
  dynamicConfig?: Record<string, string | number | boolean>;
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
  logger.warn({ pid }, 'stopping a dev server left behind by an earlier run');
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`temporal dev server did not open port ${port} within ${timeoutMs} ms`);
}

/**
 * Starts `temporal server start-dev` with its SQLite file in `dataDir`, so a restart keeps every
 * workflow. Its output goes to `$DATA_DIR/temporal.log`.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const binary = requireTemporalBinary('cli');
  mkdirSync(opts.dataDir, { recursive: true });
  const pidFile = join(opts.dataDir, 'temporal.pid');
  await stopLeftover(pidFile, opts.logger);

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
  ];
  if (opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  for (const [key, value] of Object.entries(opts.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  const log = openSync(join(opts.dataDir, 'temporal.log'), 'a');
  const child = spawn(binary, args, { stdio: ['ignore', log, log] });
  if (child.pid) writeFileSync(pidFile, String(child.pid));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  try {
    await waitForPort(opts.port, child, 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  opts.logger.info({ pid: child.pid, binary }, 'temporal dev server started');

  return {
    address: `127.0.0.1:${opts.port}`,
    uiUrl: `http://localhost:${opts.uiPort}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(pidFile, { force: true });
    },
  };
}
