/** Jest: TypeScript through SWC (type checking is `tsc --noEmit`, run by `npm test`). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The fault suite and the stack suite run on their own: `npm run test:faults`
  // (jest.faults.config.js) and `npm run test:stack` (jest.stack.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/', '<rootDir>/test/stack/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  setupFiles: ['<rootDir>/test/support/setup-runtime.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/support/runtime-teardown.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 120_000,
  maxWorkers: 2,
};
