// Lint rules, including the layer rule: libs/domain stays pure TypeScript.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.run/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['libs/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*', 'typeorm', 'typeorm/*', 'kafkajs', 'pg', 'undici', 'node:*'], message: 'libs/domain is pure: no framework, database, Kafka or I/O imports.' },
            { group: ['@apim/events', '@apim/events/*', '../../../apps/*'], message: 'libs/domain depends on nothing of ours.' },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/events/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@nestjs/*', 'typeorm', 'typeorm/*'], message: 'libs/events is the wire contract: no Nest or TypeORM.' }] }],
    },
  },
  {
    // Command-line programs: their output is the product (apimctl's tables, benches' figures).
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'tools/**/*.ts', 'apps/apimctl/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
