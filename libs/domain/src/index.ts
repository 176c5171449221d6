/**
 * @apim/domain: the aggregates as pure deciders, one folder per bounded context.
 * Nothing here does I/O or reads a clock: ids, times and read-model facts come in
 * through command data. The Jest helpers in shared/decider-test-kit are left out
 * on purpose: they are for specs only.
 */
export * from './shared';
export * from './api';
export * from './policy';
export * from './application';
export * from './subscription';
export * from './credentials';
export * from './user';
export * from './region';
