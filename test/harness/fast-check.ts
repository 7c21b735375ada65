// fast-check is a devDependency of the test workspace (test/package.json) only: core's own
// property tests (packages/core/src/crypto/*-differential.test.ts) import it through this module,
// which resolves it from test/node_modules.
export * from 'fast-check';
export { default } from 'fast-check';
