/**
 * Jest for the fault suite (`npm run test:faults`, issue #8): real processes killed on purpose, one
 * test file at a time (they start services and dev servers of their own), long timeouts.
 * `FAULTS_FULL=1` selects the full form (2-minute outage, 2 minutes of hostile receivers); the
 * 15-minute soak runs by hand (`npm run soak`).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config extends another
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['**/test/faults/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/faults/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/faults/support/global-teardown.ts',
  testTimeout: process.env.FAULTS_FULL === '1' ? 30 * 60_000 : 5 * 60_000,
  maxWorkers: 1,
};
