/**
 * What the screenshot scripts (webui-screenshots.ts, portal-screenshots.ts) share: free ports,
 * polling, saving a shot, and the service started as `npm start` does, on a temporary DATA_DIR.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';

export const root = resolve(__dirname, '..');

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Polls `probe` every 500 ms until it answers something other than undefined. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Saves a screenshot of `page` (or of `clip`) as `dir/name` and prints its size. */
export async function shot(
  page: Page,
  dir: string,
  name: string,
  clip?: { x: number; y: number; width: number; height: number },
): Promise<void> {
  const path = join(dir, name);
  await page.screenshot({ path, clip });
  console.log(`${path}: ${Math.round(statSync(path).size / 1024)} KiB`);
}

export interface Service {
  /** The API's base URL. */
  api: string;
  /** The tenant key of `acme`. */
  key: string;
  /** POSTs JSON as `acme`; throws on a non-2xx answer. */
  post<T = { id: string }>(path: string, body: unknown): Promise<T>;
  stop(): Promise<void>;
}

/**
 * The service as `npm start` runs it (embedded Temporal dev server, free ports, loopback targets
 * allowed), one tenant `acme` with a random key, ready when this resolves.
 */
export async function startService(env: Record<string, string> = {}): Promise<Service> {
  const apiPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-shots-'));
  const key = `acme-${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
  const api = `http://127.0.0.1:${apiPort}`;
  const service = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(apiPort),
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: '',
      DATA_DIR: dataDir,
      API_KEYS: `acme:${key}`,
      ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
      PUBLIC_BASE_URL: api,
      LOG_LEVEL: 'error',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((r) => service.once('exit', r));
  const stop = async () => {
    service.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await until('the service to be ready', 120_000, async () =>
      (await fetch(`${api}/readyz`)).status === 200 ? true : undefined,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    api,
    key,
    async post<T>(path: string, body: unknown) {
      const res = await fetch(`${api}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    stop,
  };
}
