/**
 * $DATA_DIR holds signing secrets, static header values and event data (the SQLite store and its WAL,
 * the dev server's database, the generated API key): the real service process keeps the folder 0700
 * and every file in it 0600, whoever created the folder, while it runs and after it stopped.
 */
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { testDialect } from '../support/store';
import { freePort } from '../support/global-setup';
import { TestReceiver } from '../support/receiver';
import { freshDatabase } from '../support/store';
import {
  alive,
  api,
  exitWithin,
  processesMentioning,
  spawnService,
  waitForStatus,
  type ServiceProcess,
} from '../support/service-process';

/** Every entry under `dir` (itself included) with its permission bits, by path relative to `root`. */
function modes(dir: string, root = dir): Record<string, string> {
  const out: Record<string, string> = {
    [relative(root, dir) || '.']: (lstatSync(dir).mode & 0o777).toString(8),
  };
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) Object.assign(out, modes(path, root));
    else out[relative(root, path)] = (st.mode & 0o777).toString(8);
  }
  return out;
}

/** What `modes` must be: 700 for folders, 600 for everything else. */
function privately(found: Record<string, string>, root: string): Record<string, string> {
  return Object.fromEntries(
    Object.keys(found).map((p) => [p, lstatSync(join(root, p)).isDirectory() ? '700' : '600']),
  );
}

describe('DATA_DIR permissions of the running service', () => {
  const roots: string[] = [];
  const procs: ServiceProcess[] = [];
  let receiver: TestReceiver;
  beforeAll(async () => {
    receiver = await TestReceiver.start();
  });
  afterEach(() => {
    for (const proc of procs.splice(0)) {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    }
    for (const root of roots.splice(0)) {
      // A dev server of the test's DATA_DIR, should the service have died without stopping it.
      for (const pid of processesMentioning(root)) if (alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(root, { recursive: true, force: true });
    }
  });
  afterAll(async () => {
    await receiver.close();
  });

  it.each([
    ['a DATA_DIR the service creates', false],
    ['a DATA_DIR an operator made 0755, holding a 0644 file', true],
  ])('%s: 0700, and every file in it 0600 after an event was published', async (_name, premade) => {
    const root = mkdtempSync(join(tmpdir(), 'hookline-modes-'));
    roots.push(root);
    const dataDir = join(root, 'data');
    if (premade) {
      mkdirSync(dataDir);
      chmodSync(dataDir, 0o755);
      writeFileSync(join(dataDir, 'notes.txt'), 'left here by the operator', { mode: 0o644 });
      chmodSync(join(dataDir, 'notes.txt'), 0o644);
      expect(modes(dataDir)).toEqual({ '.': '755', 'notes.txt': '644' });
    }
    // HOOKLINE_TEST_DATABASE=postgres: the store in PostgreSQL, DATA_DIR holds Temporal's files and the key.
    const database = testDialect() === 'postgres' ? await freshDatabase('postgres') : null;
    if (database) roots.push(database.dataDir);
    const port = await freePort();
    const proc = spawnService({
      DATA_DIR: dataDir,
      PORT: String(port),
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: '',
      DATABASE_URL: database?.url ?? '',
      API_KEYS: '',
      ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
    });
    procs.push(proc);
    const base = `http://127.0.0.1:${port}`;
    await waitForStatus(`${base}/readyz`, 200, 120_000, proc);

    // Secrets and event data reach the disk: a subscription (its secret) and a delivered event.
    const key = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
    const call = (path: string, body: unknown) => api(base, key, 'POST', path, body);
    const url = `${receiver.url}/${premade ? 'premade' : 'created'}`;
    expect(
      (await call('/v1/subscriptions', { url, eventTypes: ['*'], headers: { 'X-Token': 'private' } })).status,
    ).toBe(201);
    expect(
      (await call('/v1/events', { id: 'modes-1', type: 'card.charged', data: { card: '4242' } })).status,
    ).toBe(202);
    await receiver.waitFor((r) => r.some((x) => x.path.endsWith(premade ? 'premade' : 'created')), 60_000);

    const running = modes(dataDir);
    // The files that hold the data are all there, WAL included, so the check below covers them.
    const expected = ['api-key', 'temporal.db', ...(database ? [] : ['hookline.db', 'hookline.db-wal'])];
    for (const file of expected) expect(Object.keys(running)).toContain(file);
    if (premade) expect(Object.keys(running)).toContain('notes.txt');
    expect(running).toEqual(privately(running, dataDir));

    proc.child.kill('SIGTERM');
    expect(await exitWithin(proc, 30_000)).toBe(0);
    const stopped = modes(dataDir);
    expect(stopped).toEqual(privately(stopped, dataDir));
  });
});
