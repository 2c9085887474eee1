import { rmSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __temporalEnv?: TestWorkflowEnvironment }).__temporalEnv?.teardown();
  if (process.env.HOOKLINE_TEST_TMP) rmSync(process.env.HOOKLINE_TEST_TMP, { recursive: true, force: true });
}
