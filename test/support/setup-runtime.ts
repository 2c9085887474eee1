import { installRuntime } from '../../src/temporal/runtime';
import { testLogger } from './temporal';

// Once per Jest worker process: the SDK's logs go to the (silent by default) test logger.
// TEST_LOG_LEVEL=debug shows them.
try {
  installRuntime(testLogger);
} catch {
  // Already installed by an earlier test file in this worker process.
}
