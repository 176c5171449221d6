export * from './api-definition';
export * from './context-availability.policy';
export { apiDecider } from './api.decider';
export type { ApiCommand, ApiCreatedData, ApiEvent, ApiState, ApiUpdatedData, CreateApiData, UpdateApiData } from './api.decider';
