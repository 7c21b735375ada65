// @ts-check
// One linter for the repository: ESLint's recommended rules, typescript-eslint's type-aware set
// (floating and misused promises, unsafe `any`), and eslint-config-prettier last so that nothing
// here argues with the formatter (`pnpm format`, config in .prettierrc).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Build output, reports, and the build tools' own config files (they belong to no tsconfig and
    // ship nothing; the scope is the published sources, the examples, the tests and the bench).
    ignores: ['**/node_modules/', '**/dist/', 'coverage/', 'docs/api/', '*.config.ts', 'tsup.base.ts', 'packages/*/tsup.config.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Each file is checked against the tsconfig.json that builds it.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
  },
  {
    rules: {
      // An `async` function without `await` is how this codebase says "returns a promise, and a throw
      // becomes a rejection" (hooks, handlers, store methods behind a Promise-returning interface).
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a parameter kept for its position (Express's four-argument error handler) or a
      // property destructured out so that `...rest` leaves it behind.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // The options' callbacks (fetch, onEvent, getToken, isRevoked, resolveUser) are declared with
    // method syntax, the bivariant form users' own functions are checked against; they are
    // documented as called without `this`, which is how config.ts reads them off the options.
    files: ['packages/core/src/config.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    // Tests only. Vitest's asymmetric matchers (`expect.any(String)`, `expect.stringMatching()`) are
    // typed `any` by design; tests throw and reject with non-Errors on purpose (what a user's hook
    // may do); `expect(obj.method)` compares a method without calling it; and Node's createServer()
    // is handed Koa's `app.callback()` / Hono's `getRequestListener()`, listeners that catch their
    // own errors and whose promise nothing needs.
    files: ['**/*.test.ts', '**/*.test-d.ts', 'test/**/*.ts', 'packages/*/src/**/test-*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, properties: false } }],
    },
  },
  {
    // The packages' tsconfig.json files exclude their tests and fixtures (they are not built), so
    // these are checked against the configs the test runner type-checks them with.
    files: ['packages/*/src/**/*.test.ts', 'packages/*/src/**/*.test-d.ts', 'packages/*/src/**/*.fixture.ts', 'packages/issuer/src/**/test-*.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './tsconfig.test.json' } },
  },
  {
    files: ['examples/shared/src/**/*.test.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './examples/shared/tsconfig.test.json' } },
  },
  {
    // Plain JavaScript (the bench, the example's browser page, scripts): no types to check against.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['examples/express/public/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  prettier,
);
