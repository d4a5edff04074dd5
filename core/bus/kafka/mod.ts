/** The Kafka bus on kafkajs: the bus, its options and the broker probe. */

export { KafkaBus, type KafkaBusOptions } from "./kafka_bus.ts";
export { BrokerUnreachableError, type ProbeOptions } from "../broker_connection.ts";
export { silenceNegativeTimeoutWarning } from "./request_queue_patch.ts";
