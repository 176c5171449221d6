/**
 * One run, two kinds of tests:
 * - unit: `*.spec.ts` beside the code, pure logic;
 * - integration: `test/**\/*.int-spec.ts`, against the real Kafka clusters and
 *   PostgreSQL that test/support/global-setup.ts starts once per run.
 * Tests run in band: the two Kafka JVMs need the machine's other core.
 */
const moduleNameMapper = {
  '^@apim/domain$': '<rootDir>/libs/domain/src',
  '^@apim/domain/(.*)$': '<rootDir>/libs/domain/src/$1',
  '^@apim/events$': '<rootDir>/libs/events/src',
  '^@apim/events/(.*)$': '<rootDir>/libs/events/src/$1',
  '^@apim/migrations$': '<rootDir>/migrations',
  // kafkajs' read-committed filter, replaced as the apps replace it (libs/events/src/kafka/kafkajs-patches.ts).
  '^\\./filterAbortedMessages$': '<rootDir>/libs/events/src/kafka/filter-aborted-messages.ts',
};
const transform = { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: 'tsconfig.json' }] };

module.exports = {
  rootDir: __dirname,
  moduleFileExtensions: ['ts', 'js', 'json'],
  testEnvironment: 'node',
  moduleNameMapper,
  transform,
  testMatch: ['<rootDir>/{apps,libs,tools,migrations}/**/*.spec.ts', '<rootDir>/test/**/*.int-spec.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 120000,
  slowTestThreshold: 30,
};
