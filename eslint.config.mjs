// ESLint 9 flat config: typescript-eslint's recommended rules for the TypeScript sources and tests,
// ESLint's recommended rules for the Node scripts. `npm run lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'structuredClone', 'TextEncoder', 'TextDecoder', 'AbortController', 'performance', 'fetch', '__dirname', '__filename', 'require', 'module', 'exports', 'globalThis'].map((g) => [g, 'readonly']),
);

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'dist/**', 'out/**', 'test-results/**', 'training/**', '.cache/**', '**/*.vsix', 'models/**', 'samples/**'],
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    ...js.configs.recommended,
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: nodeGlobals },
  },
  {
    files: ['**/*.cjs', 'scripts/**/*.js', 'training/tests/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: nodeGlobals },
  },
  ...tseslint.configs.recommended.map((c) => ({ ...c, files: ['**/*.ts'] })),
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
    },
  },
  {
    // the core's one entry point is core/index.ts: the CLI, the host and the benchmark import
    // from it, never a core file directly (docs/core-api.md)
    files: ['src/extension/cli/**/*.ts', 'src/extension/host/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/core/*'], message: 'Import the core from its index (../core), which exports what the CLI, the host and the benchmark use.' }] }],
    },
  },
  {
    // test doubles may need `any` at the boundary they fake
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'warn' },
  },
);
