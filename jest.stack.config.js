/**
 * Jest for the stack suite (`npm run test:stack`): the API tests and the fault cases against the
 * production shape on this machine (scripts/stack.sh: the real Temporal server on PostgreSQL, two
 * API and two worker processes). The global setup brings the stack up (idempotent; builds into the
 * per-user cache when it is cold) and the teardown stops Hookline's processes, or the whole stack
 * when the setup started it. One file at a time: the fault cases restart servers every test shares.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config extends another
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['**/test/api/**/*.test.ts', '**/test/stack/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/stack/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/stack/support/global-teardown.ts',
  // No Temporal SDK runtime in the test process: the workers are processes of their own, and an
  // installed runtime (test/support/setup-runtime.ts) kept Jest from exiting after the last file.
  setupFiles: [],
  setupFilesAfterEnv: [],
  testTimeout: 5 * 60_000,
  maxWorkers: 1,
};
