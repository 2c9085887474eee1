/**
 * Idle subscriptions registered through the API (`--idle-subs`, at most 2,000 per tenant, the default
 * MAX_SUBSCRIPTIONS_PER_TENANT; the tenants register in parallel, 8 at a time each), nothing published.
 * Figures: the time to register them, and the worker's RSS before, during and after (settled), held
 * against the 512 MB target for 10,000. Fewer than 10,000 says so in the case name.
 * The worker process is restarted first, so its RSS is not what earlier scenarios left. Run it last:
 * the subscriptions stay (deleting them costs more than the run's server, which goes).
 */
import { registerSubscriptions, type Registered } from '../load';
import { newLatencyHistogram } from '../receiver';
import { subscriberWorkflowId } from '../../src/workflows/ids';
import { deleteSignal } from '../../src/workflows/messages';
import {
  describeError,
  log,
  pool,
  sleep,
  summarizeLatency,
  type Scenario,
  type TenantName,
} from '../support';

const PER_TENANT = 2_000;
/**
 * Subscriptions the full run registers: 2,000, not the 10,000, which take ~470 s alone here
 * (registration is bound by the dev server's CPU at ~21/s): `--idle-subs 10000` for that. With a
 * worker cache (WORKER_MAX_CACHED_WORKFLOWS) under 2,000, the cache is full either way, and the
 * worker's RSS is bounded by it.
 */
const DEFAULT_FULL = 2_000;
const CONCURRENCY_PER_TENANT = 8;
const round1 = (n: number) => Math.round(n * 10) / 10;

export const idle: Scenario = async ({ env, quick, idleSubs }) => {
  const wanted = idleSubs ?? (quick ? 100 : DEFAULT_FULL);
  // At most PER_TENANT per tenant, spread evenly.
  const tenants = Math.ceil(wanted / PER_TENANT);
  if (tenants > 5) throw new Error(`at most ${5 * PER_TENANT} idle subscriptions (5 bench tenants)`);
  const perTenant = Math.ceil(wanted / tenants);
  const total = tenants * perTenant;
  const label = `${total.toLocaleString('en-US')} idle subs (${tenants} tenant${tenants > 1 ? 's' : ''} × ${perTenant.toLocaleString('en-US')})${total < 10_000 ? ', not 10,000' : ''}`;

  // A fresh worker process: earlier scenarios grew its heap, which V8 does not give back soon.
  log('idle: restarting the worker process for a clean baseline');
  await env.restartWorker();
  const before = await env.measure(() => sleep(2_000));
  log(`idle: registering ${label}; worker RSS before: ${before.resources.worker.rssMeanMb} MB`);
  const registration = await env.measure(() =>
    Promise.all(
      Array.from({ length: tenants }, (_, t) =>
        registerSubscriptions(
          env.api,
          env.tenant(`idle-${t + 1}` as TenantName),
          Array.from({ length: perTenant }, (_, i) => ({
            url: env.receiver.url(`/idle/${t}/${i}`),
            eventTypes: [`idle.t${t}.s${i}`],
          })),
          CONCURRENCY_PER_TENANT,
        ),
      ),
    ),
  );
  const registered: Registered[] = registration.value;
  const seconds = Math.max(...registered.map((r) => r.seconds));
  const latency = newLatencyHistogram();
  for (const r of registered) latency.add(r.latency);
  log(`idle: registered in ${round1(seconds)} s; letting the worker settle`);
  // Settled: the subscriber workflows have run their first task and wait; nothing else happens.
  const after = await env.measure(() => sleep(quick ? 3_000 : 5_000));
  const w = after.resources.worker;
  const deltaMb = round1(w.rssMeanMb - before.resources.worker.rssMeanMb);

  if (env.temporal.external) {
    // Someone else's server: leave nothing running there.
    log(`idle: deleting the ${total} subscriptions`);
    await pool(
      registered.flatMap((r) => r.ids),
      50,
      async (id) => {
        try {
          await env.client.workflow.getHandle(subscriberWorkflowId(id)).signal(deleteSignal);
        } catch (err) {
          log(`could not delete ${id}: ${describeError(err)}`);
        }
      },
    );
  }

  return [
    {
      scenario: 'idle',
      case: label,
      params: { subscriptions: total, tenants, perTenant, concurrencyPerTenant: CONCURRENCY_PER_TENANT },
      opsPerSec: Math.round(total / seconds),
      latency: summarizeLatency(latency),
      wallSec: round1(seconds),
      // The settled window: what the idle subscriptions cost the worker.
      ...after.resources,
      note:
        `idle: ${total} registered in ${round1(seconds)} s (${Math.round(total / seconds)}/s; latency = ` +
        `POST /v1/subscriptions round trip); worker RSS ${before.resources.worker.rssMeanMb} MB before, ` +
        `max ${registration.resources.worker.rssMaxMb} MB while registering, ${w.rssMeanMb} MB settled ` +
        `(+${deltaMb} MB, ${Math.round((deltaMb * 1024) / total)} KB per subscription); ` +
        `worker cache ${env.worker.info?.maxCachedWorkflows ?? '?'} workflows; API RSS ${after.resources.api.rssMaxMb} MB`,
      extra: {
        rssBeforeMb: before.resources.worker.rssMeanMb,
        rssDuringMaxMb: registration.resources.worker.rssMaxMb,
        rssSettledMeanMb: w.rssMeanMb,
        rssSettledMaxMb: w.rssMaxMb,
        registration: registration.resources,
        maxCachedWorkflows: env.worker.info?.maxCachedWorkflows,
        heapLimitMb: env.worker.info?.heapLimitMb,
      },
    },
  ];
};
