module.exports = {
  displayName: 'proof',
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  testTimeout: 120000,
  // `testTimeout` is a global option: in a multi-project run (the root config) it is ignored, so set it per test file too.
  setupFilesAfterEnv: ['<rootDir>/jest.setup.js'],
};
