import { readStackEnv, runStack, stackEnvFile, stackUp } from '../../support/stack';
import { deleteLeftoverSubscriptions } from './stack-api';
import { resetResults } from './results';

/** Shared with the teardown (Jest runs both in its own process). */
export const state = globalThis as { __stackStartedHere?: boolean; __stackSetupStartedAt?: number };

/**
 * Brings the stack up for the suite: `stack.sh up` with two APIs, two workers and loopback receivers
 * allowed (idempotent: what runs stays, what is missing starts, Hookline restarts if its settings or
 * code changed). Remembers whether the infrastructure was up before, so the teardown leaves it as it
 * found it. Tells the test files to target the stack (HOOKLINE_TEST_TARGET=stack).
 */
export default async function stackGlobalSetup(): Promise<void> {
  state.__stackSetupStartedAt = Date.now();
  resetResults();
  process.env.HOOKLINE_TEST_TARGET = 'stack';
  process.env.HOOKLINE_STACK_ENV_FILE = stackEnvFile();
  // status exits 3 when PostgreSQL or the Temporal server is not up (Hookline's processes aside).
  state.__stackStartedHere = (await runStack(['status'], { allowFail: true, quiet: true })) !== 0;
  const t0 = Date.now();
  await stackUp();
  process.stdout.write(`[test:stack] stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  // Subscriptions an earlier, interrupted run left on the stack's own tenant.
  const removed = await deleteLeftoverSubscriptions(readStackEnv());
  if (removed > 0)
    process.stdout.write(`[test:stack] deleted ${removed} subscriptions left by an earlier run\n`);
}
