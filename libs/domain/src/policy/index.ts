export { DEFAULT_POLICIES, POLICY_NAME, policyDecider, policyStreamId, UNLIMITED_REQUESTS_PER_MINUTE } from './policy.decider';
export type {
  CreatePolicyData,
  PolicyCommand,
  PolicyCreatedData,
  PolicyEvent,
  PolicyState,
  PolicyUpdatedData,
  UpdatePolicyData,
} from './policy.decider';
