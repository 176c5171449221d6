export { normaliseUsername, ROLES, userDecider, userStreamId } from './user.decider';
export type {
  ChangeRolesData,
  RegisterUserData,
  Role,
  UserCommand,
  UserEvent,
  UserRegisteredData,
  UserRolesChangedData,
  UserState,
} from './user.decider';
