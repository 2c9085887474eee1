/**
 * What the subscriber's queue rules (src/workflows/state.ts) cost per event, the way an enqueue update
 * runs them: capacityError (the validator), then enqueue, on a state whose dedupe memory is full
 * (CAPS.seen ids). Measured twice: in this process's own context, and in a fresh `node:vm` context as
 * the worker runs workflow code (every global a workflow reads, `Math` or `JSON`, is looked up through
 * the context's global object there, which costs far more than in the main context).
 *
 *   npx tsx bench/state-cost.ts [--rounds <n>]
 *
 * Not part of `npm run bench`: a micro-benchmark to read beside a `--profile` run.
 */
import { buildSync } from 'esbuild';
import { createContext, runInContext } from 'node:vm';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';

type StateModule = typeof import('../src/workflows/state');

function loadState(inVm: boolean): StateModule {
  const { outputFiles } = buildSync({
    entryPoints: [join(__dirname, '../src/workflows/state.ts')],
    bundle: true,
    format: 'iife',
    globalName: '__state',
    platform: 'neutral',
    write: false,
  });
  const code = `${outputFiles[0]!.text};__state`;
  if (!inVm) return (0, eval)(code) as StateModule;
  return runInContext(code, createContext({}, { microtaskMode: 'afterEvaluate' })) as StateModule;
}

/** Events shaped like the e2e scenario's: generated ids, a small data object. */
function events(from: number, n: number) {
  const time = new Date(1_795_000_000_000).toISOString();
  return Array.from({ length: n }, (_, k) => ({
    id: `evt_${(0x10000000 + from + k).toString(16)}${'a'.repeat(20)}`,
    type: 'order.created',
    source: 'bench',
    subject: `orders/${from + k}`,
    category: null,
    labels: {},
    time,
    data: { n: from + k, sentAt: 1_795_000_000_000 },
  }));
}

function measure(m: StateModule, rounds: number): { usPerEvent: number; seen: number } {
  const state = m.initialState();
  const limits = { maxEvents: 1_000_000, maxBytes: 1024 * 1024 * 1024 };
  const batch = 100;
  const now = 1_795_000_000_000;
  // Fill the dedupe memory first, as a subscription that has run a while has it.
  for (let i = 0; i < m.CAPS.seen; i += batch) m.enqueue(state, events(i, batch), now);
  state.pending = [];
  const inputs = Array.from({ length: rounds }, (_, r) => events(m.CAPS.seen + r * batch, batch));
  const started = performance.now();
  for (const input of inputs) {
    if (m.capacityError(state, limits, input) !== null) throw new Error('unexpected: backlog full');
    m.enqueue(state, input, now);
    state.pending = [];
    state.bytes = 0;
  }
  const ms = performance.now() - started;
  return { usPerEvent: (ms * 1000) / (rounds * batch), seen: state.seen.length };
}

function main(): void {
  const i = process.argv.indexOf('--rounds');
  const rounds = i > 0 ? Number(process.argv[i + 1]) : 2_000;
  for (const inVm of [false, true]) {
    const m = loadState(inVm);
    measure(m, Math.min(rounds, 200)); // warm-up
    const { usPerEvent, seen } = measure(m, rounds);
    const where = inVm ? 'node:vm context (as in the worker)' : 'main context';
    console.log(
      `${where.padEnd(36)} ${usPerEvent.toFixed(2).padStart(7)} µs per event ` +
        `(capacityError + enqueue, updates of 100, seen ${seen}, ${rounds} rounds)`,
    );
  }
}

main();
