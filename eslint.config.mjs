import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'src/api/microservice.generated.ts'] },
  js.configs.recommended,
  // Typed linting: the rules that need the type checker (no-floating-promises, no-misused-promises, ...).
  ...tseslint.configs.recommendedTypeChecked,
  { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } } },
  { files: ['**/*.{js,mjs,cjs}'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['**/*.{js,mjs}'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
      },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
      // It calls an assertion unnecessary when the two types are merely assignable both ways (a schema type
      // with an index signature and the same type with named fields), and its fix then loses those fields.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  { files: ['hack/**', 'bin/**', 'test/**', 'bench/**'], rules: { 'no-console': 'off' } },
  // Test fakes of async interfaces are async without awaiting, so that a throw becomes a rejection as in the real thing.
  { files: ['test/**'], rules: { '@typescript-eslint/require-await': 'off' } },
);
