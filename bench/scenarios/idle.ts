/**
 * Idle subscriptions: 10,000 (`--idle-subs`; 1,000 with --quick) registered through the API, nothing
 * published; then, once settled, the memory of every process: API, worker, Temporal server, PostgreSQL
 * (stack), and the whole. Held against issue #14's 800 MB for the whole stack. Run it last: its
 * subscriptions stay (the environment goes with them).
 */
import { registerSubscriptions } from '../load';
import { log, round1, sleep, summarizeLatency, type Scenario } from '../support';

const CONCURRENCY = 16;

export const idle: Scenario = async ({ env, quick, idleSubs }) => {
  const subs = idleSubs ?? (quick ? 1_000 : 10_000);
  const tenant = env.tenant('idle');
  const before = env.memNow();
  log(`idle: registering ${subs} subscriptions (${CONCURRENCY} in flight)`);
  const { value: registered, resources } = await env.measure(() =>
    registerSubscriptions(
      env.api,
      tenant,
      Array.from({ length: subs }, (_, i) => ({
        url: env.receiver.url(`/idle/${i}`),
        eventTypes: [`idle.s${i}`],
      })),
      CONCURRENCY,
    ),
  );
  // Their workflows start off the request's path: wait for them, then let the processes settle.
  const deadline = Date.now() + 300_000;
  for (;;) {
    const { count } = await env.client.workflow.count(
      `HooklineTenant = '${tenant}' AND ExecutionStatus = 'Running'`,
    );
    if (count >= subs || Date.now() > deadline) {
      log(`idle: ${count} of ${subs} subscriber workflows running`);
      break;
    }
    await sleep(1_000);
  }
  await sleep(10_000);
  const settled = env.memNow();
  const whole = round1(
    Object.entries(settled)
      .filter(([name]) => name !== 'bench')
      .reduce((sum, [, mb]) => sum + (mb ?? 0), 0),
  );
  const parts = Object.entries(settled)
    .filter(([name]) => name !== 'bench')
    .map(([name, mb]) => `${name} ${mb ?? '?'} MB`)
    .join(', ');
  return [
    {
      scenario: 'idle',
      case: `${subs} idle subs`,
      params: { subscriptions: subs, concurrency: CONCURRENCY },
      opsPerSec: Math.round(subs / registered.seconds),
      latency: summarizeLatency(registered.latency),
      wallSec: round1(registered.seconds),
      resources,
      note: `idle: ${subs} subscriptions, settled: ${parts}; whole ${whole} MB (before registering: ${Object.entries(
        before,
      )
        .filter(([name]) => name !== 'bench')
        .map(([name, mb]) => `${name} ${mb ?? '?'}`)
        .join(', ')} MB)`,
      extra: { memBeforeMb: before, memSettledMb: settled, wholeMb: whole },
    },
  ];
};
