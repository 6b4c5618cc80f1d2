// Dependencies that ship ESM only (light-my-request -> cookie 2; @fastify/static -> content-disposition 3).
// Node 20.19+ loads them with require(esm); jest does not, so jest compiles them to CommonJS.
const esmOnly = ['cookie', 'content-disposition'];
const esmPath = `(${esmOnly.join('|')})`;

module.exports = {
  displayName: 'api',
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
    [`/node_modules/(\\.pnpm/[^/]+/node_modules/)?${esmPath}/.+\\.js$`]: [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', esModuleInterop: true }, diagnostics: false },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(\\.pnpm/)?${esmPath}[@/])`],
  testTimeout: 60000,
};
