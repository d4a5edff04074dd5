/** Topic names shared by every service (Calfkit's names where the original has them). */

import type { TopicSpec } from "./bus.ts";

/** Chat requests for the shared, unnamed chat node. */
export const CHAT_TOPIC = "ai_prompted";

/** Chat request topic of a named chat node (one per model). */
export function chatTopic(chatNodeName?: string): string {
  return chatNodeName ? `${CHAT_TOPIC}.${chatNodeName}` : CHAT_TOPIC;
}

/** Market snapshots for every agent; each agent reads it in its own consumer group. */
export const AGENT_INPUT_TOPIC = "agent_router.input";

/** Private reply topic of one agent router (chat replies and tool results). */
export function agentPrivateTopic(agent: string): string {
  return `agent_router.private.${agent}`;
}

/** Request topic of one tool node. */
export function toolRequestTopic(tool: string): string {
  return `tool_node.${tool}.request`;
}

/** Default result topic of one tool node, used when a request names no reply topic. */
export function toolResultTopic(tool: string): string {
  return `tool_node.${tool}.result`;
}

/** Latest bid/ask per product, keyed by product id. */
export const PRICE_TOPIC = "arena.prices";

/** Durable ledger events keyed by agent: the source of truth for accounts. */
export const LEDGER_TOPIC = "arena.ledger";

/** Agent reasoning, tool calls, errors and token usage, keyed by agent. */
export const ACTIVITY_TOPIC = "arena.activity";

/** Messages that failed validation, with the reason and where they came from. */
export const DEAD_LETTER_TOPIC = "arena.dead_letter";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Partition counts and retention for the fixed topics. */
export const ARENA_TOPICS: TopicSpec[] = [
  { topic: CHAT_TOPIC, partitions: 6, retentionMs: DAY_MS },
  { topic: AGENT_INPUT_TOPIC, partitions: 1, retentionMs: DAY_MS },
  { topic: PRICE_TOPIC, partitions: 3, retentionMs: 7 * DAY_MS },
  { topic: LEDGER_TOPIC, partitions: 6, retentionMs: -1 },
  { topic: ACTIVITY_TOPIC, partitions: 6, retentionMs: 30 * DAY_MS },
  { topic: DEAD_LETTER_TOPIC, partitions: 1, retentionMs: 30 * DAY_MS },
];

/** Topic spec for a per-name topic (private reply topics, named chat nodes, tool topics). */
export function dynamicTopic(topic: string, partitions = 3): TopicSpec {
  return { topic, partitions, retentionMs: DAY_MS };
}
