// ESLint: JavaScript and typescript-eslint recommended rules (syntax-only, no type information:
// it runs in seconds). The import layering is checked by dependency-cruiser
// (.dependency-cruiser.cjs), which resolves imports exactly as TypeScript does; `npm run lint`
// runs both.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', 'web/dist/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      // The code's convention: a leading underscore marks a deliberately unused binding.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Stream and iterator classes hand `this` to callbacks under one agreed name.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
      // A closure may read a binding that is assigned once, later (servers started after the
      // handlers that use their address are declared).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // It flags initial values every branch overwrites, and the deliberate `x = undefined` that
      // lets a large parsed document be collected early; neither is a bug.
      'no-useless-assignment': 'off',
    },
  },
  {
    // Tests and test doubles handle arbitrary JSON from the code under test.
    files: ['**/*.test.{ts,tsx}', 'test-support/**', 'server/test/**', 'e2e/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  { files: ['web/src/**/*.{ts,tsx}'], languageOptions: { globals: { ...globals.browser } } },
  // The service worker runs in its own global scope (self, caches, clients), not a page's.
  { files: ['web/public/sw.js'], languageOptions: { sourceType: 'script', globals: { ...globals.serviceworker } } },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
);
