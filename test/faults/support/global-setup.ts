import globalSetup from '../../support/global-setup';
import { resetResults } from './results';

/** The shared dev server and workflow bundle of every integration test, and a fresh results file. */
export default async function faultsGlobalSetup(): Promise<void> {
  resetResults();
  await globalSetup();
}
