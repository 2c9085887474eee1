import { createLogger } from '../../src/logger';
import { installRuntime } from '../../src/temporal/runtime';

// Once per Jest worker process: the SDK's logs go to a test logger, silent unless TEST_LOG_LEVEL is set.
try {
  installRuntime(createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'hookline-test'));
} catch {
  // Already installed by an earlier test file in this worker process.
}
