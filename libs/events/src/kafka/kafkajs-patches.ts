/**
 * Fixes to kafkajs 2.2.4 (unmaintained since 2023), installed by replacing its
 * internal modules in Node's module cache before kafkajs loads them:
 * - `linear-grouping`: its producer grouped a request by partition in quadratic time;
 * - `produce-encoding`: its Produce requests and request frames, encoded in one
 *   pass into exactly sized buffers (byte for byte the same);
 * - `idle-request-queue`: every connection's request queue polled itself every
 *   millisecond, even idle (a method of its class, replaced on the prototype).
 * - `filter-aborted-messages`: its read-committed consumers let through records
 *   of an aborted transaction that overlaps another producer's (the module
 *   says when). Test processes get it through jest's moduleNameMapper.
 *
 * Import this module before anything that imports kafkajs: it is the first
 * import of each app's main. Imported too late it throws, rather than
 * silently doing nothing.
 */
import { scheduleCheckPendingRequests } from './idle-request-queue';
import { groupMessagesPerPartition } from './linear-grouping';
import { encodeRequestFrame, fastProduceRequest, ProduceRequest } from './produce-encoding';
import { replaceKafkajsModule } from './replace-module';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the module is kafkajs-shaped (export =)
import filterAbortedMessages = require('./filter-aborted-messages');

replaceKafkajsModule(
  'kafkajs-patches',
  'kafkajs/src/producer/groupMessagesPerPartition',
  groupMessagesPerPartition,
  'kafkajs/src/producer/sendMessages',
);

// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs' own module, wrapped by the replacement
const originalProduceRequest = require('kafkajs/src/protocol/requests/produce/v3/request') as ProduceRequest;
replaceKafkajsModule(
  'kafkajs-patches',
  'kafkajs/src/protocol/requests/produce/v3/request',
  fastProduceRequest(originalProduceRequest),
  'kafkajs/src/protocol/requests/produce/v4/request',
);
replaceKafkajsModule('kafkajs-patches', 'kafkajs/src/protocol/request', encodeRequestFrame, 'kafkajs/src/network/connection');
replaceKafkajsModule('kafkajs-patches', 'kafkajs/src/consumer/filterAbortedMessages', filterAbortedMessages, 'kafkajs/src/consumer/batch');

// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs' own class, one method replaced on its prototype
const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: { scheduleCheckPendingRequests: unknown } };
RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
