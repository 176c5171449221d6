export {
  DEFAULT_APPLICATION_POLICY,
  DEFAULT_POLICIES,
  POLICY_NAME,
  policyDecider,
  policyStreamId,
  UNLIMITED_REQUESTS_PER_MINUTE,
} from './policy.decider';
export type {
  CreatePolicyData,
  DeletePolicyData,
  PolicyCommand,
  PolicyCreatedData,
  PolicyDeletedData,
  PolicyEvent,
  PolicyState,
  PolicyUpdatedData,
  UpdatePolicyData,
} from './policy.decider';
