import 'reflect-metadata';
import { PolicyCreatedV1 } from './policy-created.event';

/**
 * `policy.updated` v1: a throttling tier's new rate, with the fields of
 * `policy.created`: `name` as created (consumers key tiers by it), `unlimited`
 * unchanged.
 */
export class PolicyUpdatedV1 extends PolicyCreatedV1 {}
