export { APPLICATION_NAME_MAX_LENGTH, applicationDecider } from './application.decider';
export type {
  ApplicationCommand,
  ApplicationCreatedData,
  ApplicationEvent,
  ApplicationState,
  ApplicationUpdatedData,
  CreateApplicationData,
  UpdateApplicationData,
} from './application.decider';
