import { runStack } from '../../support/stack';
import { state } from './global-setup';
import { writeLatest } from './results';

/** Stops Hookline's processes; the whole stack when the setup was the one that started it. */
export default async function stackGlobalTeardown(): Promise<void> {
  writeLatest({ suiteMs: Date.now() - (state.__stackSetupStartedAt ?? Date.now()) });
  if (process.env.HOOKLINE_STACK_KEEP === '1') return;
  await runStack(state.__stackStartedHere ? ['down'] : ['down', '--hookline']);
}
