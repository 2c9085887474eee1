/**
 * Makes the README's Web UI screenshots (docs/images/webui-*.png) from a real run, and checks on the
 * way that the Web UI's "Send a signal" dialog delivers `redeliver` with its JSON input to the workflow.
 *
 *   npx tsx scripts/webui-screenshots.ts [output dir, default docs/images]
 *
 * It starts the service as `npm start` does (embedded dev server, temporary DATA_DIR, free ports), a
 * loopback receiver that answers 500, registers two subscriptions, publishes three events, waits for
 * several failed attempts (about 35 s: back-off 1, 2, 4, 8, 16 s), then drives the Web UI in headless
 * Chromium (Debian's `chromium`, see test/browser/chromium.ts). Everything it started is stopped at the end.
 */
import { mkdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { launchChromium } from '../test/browser/chromium';
import { deliveriesQuery } from '../src/workflows/messages';
import { subscriberWorkflowId } from '../src/workflows/ids';
import { freePort, root, shot, startService, until } from './screenshot-kit';

const outDir = resolve(process.argv[2] ?? join(root, 'docs', 'images'));
const EventType = temporal.api.enums.v1.EventType;

/** The endpoint of the walkthrough: down, answering 500 to every delivery. */
async function failingReceiver(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"database unavailable"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const [devPort, uiPort] = [await freePort(), await freePort()];
  const service = await startService({
    TEMPORAL_DEV_PORT: String(devPort),
    TEMPORAL_UI_PORT: String(uiPort),
  });
  const receiver = await failingReceiver();
  const ui = `http://127.0.0.1:${uiPort}`;
  const devAddress = `127.0.0.1:${devPort}`;
  let connection: Connection | undefined;
  const browser = await launchChromium();
  try {
    const call = (path: string, body: unknown) => service.post(path, body);
    const orders = await call('/v1/subscriptions', {
      url: `${receiver.url}/hooks/orders`,
      eventTypes: ['order.*'],
      description: 'Orders service (billing)',
      maxBatchSize: 10,
    });
    await call('/v1/subscriptions', {
      url: `${receiver.url}/hooks/ledger`,
      eventTypes: ['invoice.paid'],
      description: 'Ledger',
    });
    for (const n of [41, 42, 43]) {
      await call('/v1/events', {
        id: `order-${n}-created`,
        type: 'order.created',
        subject: `orders/${n}`,
        data: { order: n, total: '19.90' },
      });
    }

    connection = await Connection.connect({ address: devAddress });
    const client = new Client({ connection });
    const workflowId = subscriberWorkflowId(orders.id);
    const handle = client.workflow.getHandle(workflowId);
    // Six failed attempts: 1 + 2 + 4 + 8 + 16 s of back-off after the first.
    await until('six failed attempts', 120_000, async () =>
      (await handle.query(deliveriesQuery, 10)).length >= 6 ? true : undefined,
    );

    const page = await browser.newPage({ viewport: { width: 1500, height: 500 } });
    // 1. Find the subscription: the workflow list filtered by Hookline's search attributes.
    const query = 'HooklineTenant="acme" AND HooklineStatus="active"';
    await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    await page.getByRole('link', { name: workflowId }).waitFor();
    await page
      .getByRole('link', { name: subscriberWorkflowId('') })
      .nth(1)
      .waitFor();
    await shot(page, outDir, 'webui-find-subscription.png');

    // 2. Read its failed attempts: the `deliveries` query on the workflow's Queries tab.
    await page.setViewportSize({ width: 1400, height: 980 });
    await page.getByRole('link', { name: workflowId }).click();
    await page.getByRole('tab', { name: 'Queries' }).click();
    await page.getByTestId('query-select-button').click();
    await page.getByRole('option', { name: 'deliveries', exact: true }).click();
    await page.locator('.cm-content[contenteditable=true]:visible').click();
    await page.keyboard.insertText('3');
    await page.getByRole('button', { name: 'Run Query' }).click();
    await page.getByText('"statusCode"').first().waitFor();
    const left = (await page.getByRole('link', { name: 'Back to Workflows' }).boundingBox())!.x - 16;
    await shot(page, outDir, 'webui-failed-attempts.png', {
      x: left,
      y: 60,
      width: 1400 - left,
      height: 920,
    });

    // 3. Replay: More Actions → Send a Signal → `redeliver` with its JSON input.
    const input = { eventIds: ['order-41-created'] };
    await page.getByRole('button', { name: 'More Actions' }).click();
    await page.getByRole('menuitem', { name: 'Send a Signal' }).first().click();
    const dialog = page.getByRole('dialog').filter({ hasText: 'Send a Signal' });
    await dialog.getByRole('button', { name: /Select a signal/ }).click();
    await page.getByRole('option', { name: 'redeliver', exact: true }).click();
    await dialog.locator('.cm-content[contenteditable=true]:visible').click();
    // insertText, not typing: the editor would close brackets itself.
    await page.keyboard.insertText(JSON.stringify(input));
    // The first click on Submit only formats the JSON (one value per line); the second one sends it.
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await until('the formatted input', 10_000, async () =>
      (await dialog.locator('.cm-line').count()) >= 3 ? true : undefined,
    );
    const path = join(outDir, 'webui-redeliver-signal.png');
    await dialog.screenshot({ path });
    console.log(`${path}: ${Math.round(statSync(path).size / 1024)} KiB`);
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await dialog.waitFor({ state: 'hidden' });

    // The dialog's signal reached the workflow as plain JSON and its handler ran without failing a task.
    const events = await until('the signal in the history', 30_000, async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const signalled = events.some(
        (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'redeliver',
      );
      return signalled ? events : undefined;
    });
    const signals = events.filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'redeliver',
    );
    const payloads = signals[0]!.workflowExecutionSignaledEventAttributes!.input?.payloads ?? [];
    const received = payloads.map((p) => defaultPayloadConverter.fromPayload(p));
    const failedTasks = events.filter(
      (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    ).length;
    console.log(
      `redeliver signals: ${signals.length}, input as received: ${JSON.stringify(received)}; ` +
        `failed workflow tasks: ${failedTasks}`,
    );
    if (signals.length !== 1 || JSON.stringify(received) !== JSON.stringify([input]) || failedTasks > 0) {
      throw new Error('the Web UI signal did not arrive as sent, or a workflow task failed');
    }
  } finally {
    await browser.close();
    await connection?.close();
    receiver.server.closeAllConnections();
    receiver.server.close();
    await service.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
