/**
 * A real PostgreSQL for the tests. `TEST_DATABASE_URL` (a role that may create databases) when set;
 * otherwise the global setup starts a private cluster from Debian's binaries (initdb, postgres) in a
 * temporary folder on a free port, as the `postgres` user when we run as root (PostgreSQL refuses
 * root), and stops it in the teardown. Each test store gets a database of its own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** Admin URL: connects to database `postgres`. */
  url: string;
  stop(): Promise<void>;
}

/** The newest installed PostgreSQL's bin dir (Debian: /usr/lib/postgresql/<major>/bin); null if none. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'postgres'))) return join(root, v, 'bin');
  return null;
}

/** Runs a PostgreSQL binary as the postgres user when we are root. */
function asPostgresUser(bin: string, args: string[]): { command: string; args: string[] } {
  if (userInfo().uid !== 0) return { command: bin, args };
  return { command: 'runuser', args: ['-u', 'postgres', '--', bin, ...args] };
}

export async function startTestPostgres(port: number): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (!bin) {
    throw new Error(
      "PostgreSQL is needed by the tests: install Debian's package (apt-get install -y postgresql) or set TEST_DATABASE_URL",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'hookline-pg-'));
  const root = userInfo().uid === 0;
  if (root) {
    const pgUser = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const pgGroup = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(pgUser.stdout.trim()), Number(pgGroup.stdout.trim()));
  }
  const data = join(dir, 'data');
  const init = asPostgresUser(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'hookline',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const ran = spawnSync(init.command, init.args, { encoding: 'utf8' });
  if (ran.status !== 0) throw new Error(`initdb failed: ${ran.stderr || ran.stdout}`);
  // Durability switched off: these clusters live for one test run (the stack suite runs a durable one).
  const server = asPostgresUser(join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=300',
  ]);
  const child: ChildProcess = spawn(server.command, server.args, { stdio: 'ignore', detached: false });
  const url = `postgres://hookline@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`test PostgreSQL did not start: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        // Fast shutdown is SIGINT to the postmaster. As root the child is runuser, which blocks
        // SIGINT (it forwards only SIGTERM): signalled itself it ignores it, and the teardown
        // waited for ever. So the postmaster gets it, by the pid in its postmaster.pid.
        const postmaster = root ? postmasterPid(data) : null;
        if (postmaster) process.kill(postmaster, 'SIGINT');
        else child.kill('SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The postmaster's pid, from the first line of `<data>/postmaster.pid`; null while there is none. */
function postmasterPid(data: string): number | null {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** A fresh, empty database on the test server; its URL. */
export async function createTestDatabase(adminUrl: string): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
