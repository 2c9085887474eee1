/**
 * What the event-type catalog costs per event (issue #16): compiling a schema once, then checking an
 * event's `data` against it, valid and invalid, with the same code the publish transaction runs
 * (src/publish/event-schemas.ts). In this process, no I/O.
 */
import { compileDataCheck } from '../../src/publish/event-schemas';
import { nowMs } from '../receiver';
import { log, type CaseResult, type Scenario } from '../support';

/** An order, as a producer would describe it: required fields, types, bounds, an array of items. */
const ORDER_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['orderId', 'total', 'currency', 'items'],
  properties: {
    orderId: { type: 'string', pattern: '^ord_[0-9a-z]{8,32}$' },
    total: { type: 'number', minimum: 0 },
    currency: { enum: ['EUR', 'USD', 'GBP'] },
    customer: { type: 'object', properties: { email: { type: 'string', maxLength: 320 } } },
    items: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        required: ['sku', 'quantity'],
        properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } },
      },
    },
  },
};

function order(i: number, items: number): Record<string, unknown> {
  return {
    orderId: `ord_${String(i).padStart(10, '0')}`,
    total: 42.5 + i,
    currency: 'EUR',
    customer: { email: 'buyer@example.com' },
    items: Array.from({ length: items }, (_, n) => ({ sku: `sku-${n}`, quantity: 1 + (n % 3) })),
  };
}

export const schemaCost: Scenario = ({ quick }) => {
  const iterations = quick ? 20_000 : 200_000;
  const results: CaseResult[] = [];

  const compileRuns = quick ? 20 : 100;
  log('schema-cost: compile');
  let started = nowMs();
  for (let i = 0; i < compileRuns; i++) compileDataCheck(ORDER_SCHEMA);
  const compileMs = (nowMs() - started) / compileRuns;
  results.push({
    scenario: 'schema-cost',
    case: 'compile the order schema (once per catalog change and process)',
    params: { iterations: compileRuns },
    events: 0,
    eventsPerSec: 0,
    opsPerSec: Math.round(1000 / compileMs),
    wallSec: Math.round((compileMs * compileRuns) / 100) / 10,
    extra: { msPerCompile: Math.round(compileMs * 100) / 100 },
  });

  const check = compileDataCheck(ORDER_SCHEMA);
  for (const [label, items, valid] of [
    ['valid, 10 items', 10, true],
    ['valid, 100 items', 100, true],
    ['invalid (a quantity of 0), 10 items', 10, false],
  ] as const) {
    log(`schema-cost: ${label}`);
    const data = Array.from({ length: 100 }, (_, i) => {
      const d = order(i, items);
      if (!valid) (d.items as { quantity: number }[])[5]!.quantity = 0;
      return d;
    });
    let problems = 0;
    started = nowMs();
    for (let i = 0; i < iterations; i++) problems += check(data[i % 100], 'data').length;
    const seconds = (nowMs() - started) / 1000;
    if (problems > 0 === valid) throw new Error(`schema-cost: ${label} gave ${problems} problems`);
    results.push({
      scenario: 'schema-cost',
      case: label,
      params: { items, valid, iterations },
      events: iterations,
      eventsPerSec: Math.round(iterations / seconds),
      opsPerSec: Math.round(iterations / seconds),
      wallSec: Math.round(seconds * 10) / 10,
      extra: { usPerEvent: Math.round((seconds * 1e6 * 1000) / iterations) / 1000 },
    });
  }
  return Promise.resolve(results);
};
