/** Resolves the pinned Kafka broker jars from Maven Central into the cache (normally done on first use). */
import { ensureKafkaClasspath } from '../tools/infra/kafka-classpath';

console.log(ensureKafkaClasspath((line) => console.log(line)));
