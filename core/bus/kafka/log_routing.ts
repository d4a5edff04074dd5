/** Routes kafkajs log entries to the bus logger, demoting routine ones to debug. */

import { type LogEntry, logLevel } from "kafkajs";
import type { Logger } from "../../log.ts";

/** kafkajs messages that describe normal operation; logged at debug instead of warn. */
const ROUTINE_MESSAGES = [
  "The group is rebalancing, re-joining",
  "Limiting retries for the idempotent producer may invalidate EoS guarantees",
];

/** Error responses kafkajs logs at error level but handles itself (rebalances, leader moves). */
const ROUTINE_RESPONSE_ERRORS =
  /rebalancing|coordinator is loading|not the correct coordinator|coordinator is not available|no leader|does not host this topic-partition|leader is not available|not the leader for that topic-partition/i;

/** Writes one kafkajs log entry to `log` at the level it deserves. */
export function routeKafkaLog(log: Logger, entry: LogEntry): void {
  const { message, timestamp: _timestamp, logger: _logger, ...fields } = entry.log as {
    message: string;
    timestamp?: string;
    logger?: string;
    [field: string]: unknown;
  };
  const context = { namespace: entry.namespace, ...fields };
  const routineResponse = entry.namespace === "Connection" && message.startsWith("Response ") &&
    ROUTINE_RESPONSE_ERRORS.test(String(fields.error ?? ""));
  if (routineResponse || ROUTINE_MESSAGES.some((routine) => message.startsWith(routine))) {
    log.debug(message, context);
  } else if (entry.level === logLevel.ERROR) {
    log.error(message, context);
  } else if (entry.level === logLevel.WARN) {
    log.warn(message, context);
  } else {
    log.debug(message, context);
  }
}
