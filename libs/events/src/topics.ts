/** Topic names (DESIGN.md section 3). Local topics are written in their DC; `<dc>.<topic>` are mirrors. */
export const TOPICS = {
  events: 'apim.events',
  analytics: 'apim.analytics',
  heartbeats: 'apim.heartbeats',
  checkpoints: 'apim.replicator.checkpoints',
  dlq: 'apim.events.dlq',
} as const;

/** Topics a replicator mirrors from each DC. */
export const MIRRORED_TOPICS = [TOPICS.events, TOPICS.analytics] as const;

/** The mirror of DC `dc`'s local `topic` in another DC's cluster. */
export function mirrorTopic(dc: string, topic: string): string {
  return `${dc}.${topic}`;
}

/** The DC whose local topic `topic` mirrors, or null for a local topic. */
export function mirrorSource(topic: string, baseTopic: string): string | null {
  return topic.endsWith(`.${baseTopic}`) && topic !== baseTopic ? topic.slice(0, -baseTopic.length - 1) : null;
}

/** Every events topic a consumer in `localDc` reads: the local one and each peer's mirror. */
export function eventTopics(peerDcs: string[]): string[] {
  return [TOPICS.events, ...peerDcs.map((dc) => mirrorTopic(dc, TOPICS.events))];
}

/** Retention and partitioning of the topics the apps create (never auto-created). */
export const TOPIC_CONFIGS: Record<string, { numPartitions: number; configEntries: { name: string; value: string }[] }> = {
  [TOPICS.events]: {
    numPartitions: 6,
    configEntries: [
      { name: 'retention.ms', value: '-1' },
      { name: 'retention.bytes', value: '-1' },
    ],
  },
  [TOPICS.analytics]: { numPartitions: 6, configEntries: [{ name: 'retention.ms', value: String(7 * 24 * 3600 * 1000) }] },
  [TOPICS.heartbeats]: { numPartitions: 1, configEntries: [{ name: 'retention.ms', value: String(24 * 3600 * 1000) }] },
  [TOPICS.checkpoints]: { numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
  [TOPICS.dlq]: { numPartitions: 1, configEntries: [{ name: 'retention.ms', value: String(30 * 24 * 3600 * 1000) }] },
};

/** Headers a replicator adds to each mirrored record (the record's own headers are kept). */
export const MIRROR_HEADERS = {
  /** The DC whose local topic the record was read from. */
  source: 'apim.mirror.source',
  /** Its offset in that DC's local topic (mirror offsets differ: transaction markers take offsets too). */
  offset: 'apim.mirror.offset',
} as const;

/**
 * Consumer group whose committed offsets on `apim.events` mark a topic restored
 * by `dc:restore`: per partition, where the copy of the peer's mirror ended. A
 * replicator whose source cluster was replaced resumes from its checkpoints
 * only when they are within these offsets (docs/architecture.md).
 */
export const RESTORED_GROUP = 'apim-restored';

/** Retention and partition count of a topic or of the local topic it mirrors; undefined for one the apps do not know. */
export function topicConfig(topic: string): (typeof TOPIC_CONFIGS)[string] | undefined {
  return TOPIC_CONFIGS[topic] ?? TOPIC_CONFIGS[Object.keys(TOPIC_CONFIGS).find((base) => topic.endsWith(`.${base}`)) ?? ''];
}
