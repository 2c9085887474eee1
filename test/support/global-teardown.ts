import { rmSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestPostgres } from './postgres';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __temporalEnv?: TestWorkflowEnvironment }).__temporalEnv?.teardown();
  await (globalThis as { __testPostgres?: TestPostgres }).__testPostgres?.stop();
  if (process.env.HOOKLINE_TEST_TMP) rmSync(process.env.HOOKLINE_TEST_TMP, { recursive: true, force: true });
}
