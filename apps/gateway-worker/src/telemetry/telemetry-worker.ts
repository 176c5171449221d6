/**
 * The gateway's telemetry thread (started by `telemetry-thread.ts`): sends
 * usage summaries, heartbeats and dead letters to Kafka through a
 * `TelemetryProducer`, off the event loop that serves requests.
 */
// First: fixes to kafkajs, installed before kafkajs loads (see the module).
import '@apim/events/kafka/kafkajs-patches';
import { parentPort, workerData } from 'node:worker_threads';
import type { IHeaders, Message } from 'kafkajs';
import { createKafka, JsonLogger, TelemetryProducer } from '@apim/events';
import type { FromTelemetryThread, TelemetryThreadData, ToTelemetryThread } from './telemetry-thread';

const STATS_MS = 250;

function run(port: NonNullable<typeof parentPort>, data: TelemetryThreadData): void {
  const logger = new JsonLogger({ service: 'gateway-worker', dc: data.dc, thread: 'telemetry' }, data.logLevel);
  const telemetry = new TelemetryProducer(
    createKafka({ brokers: data.brokers, clientId: data.clientId, logger, security: data.security }),
    logger,
  );
  const report = (): void => {
    const stats: FromTelemetryThread = {
      kind: 'stats',
      sent: telemetry.sent,
      buffered: telemetry.buffered,
      dropped: telemetry.dropped,
    };
    port.postMessage(stats);
  };
  telemetry.start();
  const timer = setInterval(report, STATS_MS);

  port.on('message', (message: ToTelemetryThread) => {
    switch (message.kind) {
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

if (!parentPort) throw new Error('telemetry-worker runs as a worker thread of the gateway (telemetry-thread.ts)');
run(parentPort, workerData as TelemetryThreadData);
