/**
 * The gateway's telemetry thread (started by `telemetry-thread.ts`): turns
 * the request path's packed usage fields into usage records and sends them,
 * with heartbeats and dead letters, to Kafka through a `TelemetryProducer`.
 */
// First: fixes to kafkajs, installed before kafkajs loads (see the module).
import '@apim/events/kafka/kafkajs-patches';
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { IHeaders, Message } from 'kafkajs';
import {
  createKafka,
  JsonLogger,
  MAX_USAGE_LATENCY_MS,
  TelemetryProducer,
  TOPICS,
  usageRecordHeaders,
  usageRecordJson,
} from '@apim/events';
import type { FromTelemetryThread, TelemetryThreadData, ToTelemetryThread } from './telemetry-thread';
import { UsageBatchReader } from './usage-batch';

const STATS_MS = 250;

function run(port: NonNullable<typeof parentPort>, data: TelemetryThreadData): void {
  const logger = new JsonLogger({ service: 'gateway-worker', dc: data.dc, thread: 'telemetry' }, data.logLevel);
  const telemetry = new TelemetryProducer(
    createKafka({ brokers: data.brokers, clientId: data.clientId, logger, security: data.security }),
    logger,
  );
  const reader = new UsageBatchReader();
  const gatewayId = JSON.stringify(data.gatewayId);
  const dc = JSON.stringify(data.dc);
  const headers = usageRecordHeaders(data.dc, data.gatewayId);
  let received = 0;
  let unreadable = 0;
  const report = (): void => {
    const stats: FromTelemetryThread = {
      kind: 'stats',
      received,
      sent: telemetry.sent,
      buffered: telemetry.buffered,
      dropped: telemetry.dropped + unreadable,
    };
    port.postMessage(stats);
  };
  telemetry.start();
  const timer = setInterval(report, STATS_MS);

  port.on('message', (message: ToTelemetryThread) => {
    switch (message.kind) {
      case 'usage': {
        received += message.batch.count;
        try {
          for (const fields of reader.read(message.batch))
            telemetry.enqueue(TOPICS.analytics, {
              key: fields.apiId,
              value: Buffer.from(
                usageRecordJson({
                  recordId: `"${randomUUID()}"`,
                  gatewayId,
                  dc,
                  apiId: quoted(fields.apiId),
                  applicationId: fields.applicationId === null ? 'null' : quoted(fields.applicationId),
                  method: quoted(fields.method),
                  status: fields.status,
                  latencyMs: Math.min(fields.latencyMs, MAX_USAGE_LATENCY_MS),
                  requestBytes: fields.requestBytes,
                  responseBytes: fields.responseBytes,
                  at: isoAt(fields.startedAt),
                }),
                'utf8',
              ),
              headers,
            });
        } catch (error) {
          unreadable += message.batch.count;
          logger.error('usage batch not readable; its records are dropped', { error: (error as Error).message });
        }
        report();
        return;
      }
      case 'record':
        telemetry.enqueue(message.topic, asBuffers(message.message));
        return;
      case 'stop':
        clearInterval(timer);
        void telemetry.stop(message.graceMs).finally(() => {
          report();
          port.postMessage({ kind: 'stopped' } satisfies FromTelemetryThread);
        });
        return;
    }
  });
}

/** Buffers arrive as Uint8Arrays (structured clone); kafkajs wants Buffers. */
function asBuffers(message: Message): Message {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {}))
    headers[name] = Array.isArray(value) ? value.map(buffer) : buffer(value);
  return { ...message, key: buffer(message.key), value: buffer(message.value), headers };
}

function buffer<T>(value: T): T | Buffer {
  return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}

const QUOTED_MAX = 100_000;
const quotedStrings = new Map<string, string>();
/** JSON.stringify of an id or a method, remembered: the same few come with every request. */
function quoted(text: string): string {
  let json = quotedStrings.get(text);
  if (json === undefined) {
    if (quotedStrings.size >= QUOTED_MAX) quotedStrings.clear();
    quotedStrings.set(text, (json = JSON.stringify(text)));
  }
  return json;
}

let isoMs = -1;
let isoText = '';
/** `JSON.stringify(new Date(ms).toISOString())`, remembered for the last millisecond asked: requests that start in the same one share it. */
function isoAt(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = `"${new Date(ms).toISOString()}"`;
  }
  return isoText;
}

if (!parentPort) throw new Error('telemetry-worker runs as a worker thread of the gateway (telemetry-thread.ts)');
run(parentPort, workerData as TelemetryThreadData);
