/**
 * Records histories of Hookline's workflows as they ship, for the replay test
 * (test/integration/replay.test.ts replays every file of test/fixtures/histories/).
 *
 *   npx tsx scripts/record-histories.ts [--out <dir>]
 *
 * It starts the service exactly as `npm start` does (src/main.ts: embedded dev server, worker and REST
 * API; temporary DATA_DIR, free ports), plus a loopback receiver, and plays a short scenario through the
 * REST API and the ingress signal (about 30 s):
 *   - a subscription that fails once (500) then delivers, is paused, resumed, reconfigured, has its
 *     secret rotated, redelivers (REST, then the Web UI's `redeliver` signal), and is deleted;
 *   - one disabled by 410 Gone;
 *   - one cancelled as the Web UI's "Request Cancellation" does (a delete);
 *   - two with the CloudEvents handshake, granted by the OPTIONS answer and by the callback;
 *   - the tenant's ingress workflow, which published the ingress signal's events.
 * Each history is written as binary protobuf, `<workflow>-<scenario>-<YYYY-MM-DD>.binpb`.
 *
 * Never delete an older fixture while runs of that shape may still be open on a cluster: the replay test
 * is what tells that today's code still replays them.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ingressWorkflowId, subscriberWorkflowId } from '../src/workflows/ids';
import { TestReceiver } from '../test/support/receiver';

const root = resolve(__dirname, '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const outDir = resolve(outIndex >= 0 ? args[outIndex + 1]! : join(root, 'test', 'fixtures', 'histories'));
const day = new Date().toISOString().slice(0, 10);

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Polls `probe` every 250 ms until it returns a value, for at most `timeoutMs`. */
async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  console.log(`waiting for ${what}`);
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The fields of the REST answers this script reads. */
interface SubscriptionAnswer {
  id: string;
  status: string;
  version: number;
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const [apiPort, devPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-record-'));
  const key = `rec-${randomBytes(12).toString('hex')}`;
  const api = `http://127.0.0.1:${apiPort}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(apiPort),
    TEMPORAL_DEV_PORT: String(devPort),
    TEMPORAL_UI_PORT: String(uiPort),
    TEMPORAL_ADDRESS: '',
    DATA_DIR: dataDir,
    API_KEYS: `acme:${key}`,
    PUBLIC_BASE_URL: api,
    ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
    LOG_LEVEL: 'error',
  };
  // Plain JSON payloads: a fixture must replay without anyone's keys.
  for (const name of ['PAYLOAD_ENCRYPTION_KEY', 'PAYLOAD_DECRYPTION_KEYS', 'METRICS_PORT']) delete env[name];
  const service = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'main.ts')], {
    cwd: root,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((r) => service.once('exit', r));

  // /flaky: 500 once, then 200. /gone: 410. OPTIONS /sync grants the handshake at once; OPTIONS
  // /callback does not, and its callback URL is kept for the script to call.
  let flakyFailed = false;
  let callbackUrl: string | null = null;
  const receiver = await TestReceiver.start((req) => {
    if (req.method === 'OPTIONS') {
      if (req.path.endsWith('/sync')) return { status: 200, headers: { 'webhook-allowed-origin': '*' } };
      callbackUrl = String(req.headers['webhook-request-callback'] ?? '');
      return { status: 200 };
    }
    if (req.path.endsWith('/gone')) return { status: 410 };
    if (req.path.endsWith('/flaky') && !flakyFailed) {
      flakyFailed = true;
      return { status: 500 };
    }
    return { status: 200 };
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : null) as SubscriptionAnswer;
  };
  const status = async (id: string) => (await call('GET', `/v1/subscriptions/${id}`)).status;
  const events = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, type: 'order.created', data: { i } }));

  let connection: Connection | undefined;
  try {
    await until('the service to be ready', 120_000, async () =>
      (await fetch(`${api}/readyz`)).status === 200 ? true : undefined,
    );
    connection = await Connection.connect({ address: `127.0.0.1:${devPort}` });
    const client = new Client({ connection });

    const sub = (path: string, extra: Record<string, unknown> = {}) =>
      call('POST', '/v1/subscriptions', {
        url: `${receiver.url}/${path}`,
        eventTypes: ['order.*'],
        ...extra,
      });
    const flaky = await sub('flaky', { maxBatchSize: 5 });
    const gone = await sub('gone');
    const sync = await sub('sync', { requireValidation: true });
    const callback = await sub('callback', { requireValidation: true });
    const cancelled = await sub('cancelled');

    await until('the validation callback URL', 30_000, () => callbackUrl ?? undefined);
    const confirmed = await fetch(callbackUrl!);
    if (confirmed.status !== 200) throw new Error(`validation callback answered ${confirmed.status}`);
    await until('both validations granted', 30_000, async () =>
      (await status(sync.id)) === 'active' && (await status(callback.id)) === 'active' ? true : undefined,
    );

    // Through the REST API, then through the ingress signal of Temporal-native producers.
    for (let batch = 0; batch < 3; batch++)
      await call('POST', '/v1/events', { events: events(`b${batch}`, 4) });
    await client.workflow
      .getHandle(ingressWorkflowId('acme'))
      .signal('publish', { events: events('ingress', 2) });
    // Event ids received at /flaky, every attempt included (the failed first one repeats its batch).
    const flakyGot = () => receiver.eventIds((r) => r.method === 'POST' && r.path.endsWith('/flaky'));
    const distinct = (n: number) => () => (new Set(flakyGot()).size >= n ? true : undefined);
    await until('14 events at /flaky', 60_000, distinct(14));
    await until('the 410 to disable /gone', 30_000, async () =>
      (await status(gone.id)) === 'disabled' ? true : undefined,
    );

    await call('POST', `/v1/subscriptions/${flaky.id}/pause`);
    await call('POST', '/v1/events', { events: events('paused', 3) });
    await call('POST', `/v1/subscriptions/${flaky.id}/resume`);
    const current = await call('GET', `/v1/subscriptions/${flaky.id}`);
    await call(
      'PATCH',
      `/v1/subscriptions/${flaky.id}`,
      { eventTypes: ['order.*', 'refund.*'] },
      { 'if-match': String(current.version) },
    );
    await call('POST', `/v1/subscriptions/${flaky.id}/secret/rotate`);
    await until('the paused events at /flaky', 30_000, distinct(17));
    const sentTimes = () => flakyGot().filter((id) => id === 'b0-0').length;
    const before = sentTimes();
    await call('POST', `/v1/subscriptions/${flaky.id}/redeliver`, { eventIds: ['b0-0'] });
    await until('the redelivery at /flaky', 30_000, () => (sentTimes() > before ? true : undefined));
    // The Web UI's way: the `redeliver` signal by name, with plain JSON.
    await client.workflow.getHandle(subscriberWorkflowId(flaky.id)).signal('redeliver', { eventIds: ['b0-1'] });
    const resent = () => flakyGot().filter((id) => id === 'b0-1').length;
    await until('the signalled redelivery at /flaky', 30_000, () => (resent() > 1 ? true : undefined));
    await call('DELETE', `/v1/subscriptions/${flaky.id}`);
    await client.workflow.getHandle(subscriberWorkflowId(flaky.id)).result();
    const cancelHandle = client.workflow.getHandle(subscriberWorkflowId(cancelled.id));
    await cancelHandle.cancel();
    await cancelHandle.result().catch(() => undefined);
    // Handshake workflows are named after their subscription and handshake: find them.
    const handshakes = new Map<string, string>();
    for await (const w of client.workflow.list({ query: `WorkflowType = 'handshakeWorkflow'` })) {
      handshakes.set(w.workflowId.split('-')[2]!, w.workflowId);
    }
    // Let the running workflows finish their current tasks, so each history ends on a completed task.
    await new Promise((r) => setTimeout(r, 2_000));

    const record: [string, string][] = [
      [`subscriber-lifecycle`, subscriberWorkflowId(flaky.id)],
      [`subscriber-gone`, subscriberWorkflowId(gone.id)],
      [`subscriber-cancelled`, subscriberWorkflowId(cancelled.id)],
      [`subscriber-validated`, subscriberWorkflowId(sync.id)],
      [`handshake-sync`, handshakes.get(sync.id)!],
      [`handshake-callback`, handshakes.get(callback.id)!],
      [`ingress`, ingressWorkflowId('acme')],
    ];
    for (const [name, workflowId] of record) {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const file = join(outDir, `${name}-${day}.binpb`);
      writeFileSync(file, temporal.api.history.v1.History.encode(history).finish());
      console.log(`${file}: ${history.events?.length ?? 0} events`);
    }
  } finally {
    await connection?.close();
    await receiver.close();
    service.kill('SIGINT');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
