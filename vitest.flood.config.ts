import { defineConfig } from 'vitest/config';

/**
 * The login-flood test (test/flood/): a timing assertion, so it runs on its own, after the
 * parallel `vitest run` (`pnpm test:flood`, the last step of `pnpm test`): one file in one fork,
 * nothing else competing for the cores while it measures. Its file is named `*.flood-test.ts` so
 * that vitest.config.ts's `*.test.ts` never picks it up.
 */
export default defineConfig({
  test: {
    include: ['test/flood/**/*.flood-test.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    // About a minute on an idle 2-core machine; the bounds inside the test catch a hang sooner.
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
