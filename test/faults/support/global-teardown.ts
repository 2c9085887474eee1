import globalTeardown from '../../support/global-teardown';
import { writeLatest } from './results';

export default async function faultsGlobalTeardown(): Promise<void> {
  writeLatest();
  await globalTeardown();
}
