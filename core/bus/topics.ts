/**
 * Every topic of an arena in one place: its name (Calfkit's names where the original has them),
 * partition count, retention and cleanup policy. Components take {@linkcode arenaTopics} for
 * their arena's prefix instead of concatenating names, so a fact such as the chat topic's
 * partition count is stated once and is the same whichever component creates the topic first.
 *
 * @example
 * ```ts ignore
 * const topics = arenaTopics("x3.");
 * await bus.ensureTopics([...topics.fixed, topics.chat("gpt5"), topics.agentPrivate("momentum")]);
 * await bus.publish(topics.deadLetter.topic, records); // "x3.arena.dead_letter"
 * ```
 */

import type { TopicSpec } from "./bus.ts";

/** Chat requests for the shared, unnamed chat node. */
export const CHAT_TOPIC = "ai_prompted";

/** Market snapshots for every agent; each agent reads it in its own consumer group. */
export const AGENT_INPUT_TOPIC = "agent_router.input";

/** Latest bid/ask per product, keyed by product id. */
export const PRICE_TOPIC = "arena.prices";

/** Durable ledger events keyed by agent: the source of truth for accounts. */
export const LEDGER_TOPIC = "arena.ledger";

/** Agent reasoning, tool calls, errors and token usage, keyed by agent. */
export const ACTIVITY_TOPIC = "arena.activity";

/** Messages that failed validation, with the reason and where they came from. */
export const DEAD_LETTER_TOPIC = "arena.dead_letter";

/** What each tools node serves (definitions as models see them), compacted, keyed by service. */
export const TOOL_CATALOG_TOPIC = "arena.tool_catalog";

/**
 * Partitions of every chat request topic: a chat node handles one request per partition at once,
 * so this bounds its useful workers; it equals the default `--max-workers` (10).
 */
export const CHAT_TOPIC_PARTITIONS = 10;

/** Partitions of every tool request topic (requests are keyed by agent). */
export const TOOL_TOPIC_PARTITIONS = 6;

/** Partitions of a private reply topic and of any other per-name topic. */
export const DYNAMIC_TOPIC_PARTITIONS = 3;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Chat request topic of a named chat node (one per model), without a prefix. */
export function chatTopic(chatNodeName?: string): string {
  return chatNodeName ? `${CHAT_TOPIC}.${chatNodeName}` : CHAT_TOPIC;
}

/** Private reply topic of one agent router (chat replies and tool results), without a prefix. */
export function agentPrivateTopic(agent: string): string {
  return `agent_router.private.${agent}`;
}

/** Request topic of one tool node, without a prefix. */
export function toolRequestTopic(tool: string): string {
  return `tool_node.${tool}.request`;
}

/** Default result topic of one tool node (a request without a reply topic), without a prefix. */
export function toolResultTopic(tool: string): string {
  return `tool_node.${tool}.result`;
}

/** Topic spec for a per-name topic with the default retention (one day). */
export function dynamicTopic(topic: string, partitions = DYNAMIC_TOPIC_PARTITIONS): TopicSpec {
  return { topic, partitions, retentionMs: DAY_MS };
}

/** The topics of one arena (one prefix): names and specs of fixed and per-name topics. */
export interface ArenaTopics {
  /** The prefix every name starts with ("" for none). */
  readonly prefix: string;
  /** `agent_router.input`: market snapshots. */
  readonly snapshots: TopicSpec;
  /** `arena.prices`: latest bid/ask per product. */
  readonly prices: TopicSpec;
  /** `arena.ledger`: durable ledger events, kept forever. */
  readonly ledger: TopicSpec;
  /** `arena.activity`: reasoning, tool calls, errors, usage, decisions. */
  readonly activity: TopicSpec;
  /** `arena.dead_letter`: invalid messages, one per record (see core/bus/messages.ts). */
  readonly deadLetter: TopicSpec;
  /** `arena.tool_catalog`: each tools node's definitions, compacted (last per service). */
  readonly toolCatalog: TopicSpec;
  /** Every fixed topic above, plus the shared chat topic. */
  readonly fixed: readonly TopicSpec[];
  /** `ai_prompted[.<name>]`: chat requests of one chat node. */
  chat(chatNodeName?: string): TopicSpec;
  /** `agent_router.private.<agent>`: an agent's chat replies and tool results. */
  agentPrivate(agent: string): TopicSpec;
  /** `tool_node.<tool>.request`: requests of one tool. */
  toolRequest(tool: string): TopicSpec;
  /** `tool_node.<tool>.result`: default results of one tool. */
  toolResult(tool: string): TopicSpec;
}

/** Names and specs of every topic of the arena with this prefix (default none). */
export function arenaTopics(prefix = ""): ArenaTopics {
  const spec = (topic: string, partitions: number, retentionMs: number): TopicSpec => ({
    topic: prefix + topic,
    partitions,
    retentionMs,
  });
  const snapshots = spec(AGENT_INPUT_TOPIC, 1, DAY_MS);
  const prices = spec(PRICE_TOPIC, 3, 7 * DAY_MS);
  const ledger = spec(LEDGER_TOPIC, 6, -1);
  const activity = spec(ACTIVITY_TOPIC, 6, 30 * DAY_MS);
  const deadLetter: TopicSpec = {
    ...spec(DEAD_LETTER_TOPIC, 1, 30 * DAY_MS),
    // Keyed by source record, so copies written by several consumer processes collapse to one.
    cleanupPolicy: "compact",
  };
  const toolCatalog: TopicSpec = { ...spec(TOOL_CATALOG_TOPIC, 1, -1), cleanupPolicy: "compact" };
  const chat = (chatNodeName?: string) =>
    spec(chatTopic(chatNodeName), CHAT_TOPIC_PARTITIONS, DAY_MS);
  return {
    prefix,
    snapshots,
    prices,
    ledger,
    activity,
    deadLetter,
    toolCatalog,
    fixed: [chat(), snapshots, prices, ledger, activity, deadLetter, toolCatalog],
    chat,
    agentPrivate: (agent) => dynamicTopic(prefix + agentPrivateTopic(agent)),
    toolRequest: (tool) => dynamicTopic(prefix + toolRequestTopic(tool), TOOL_TOPIC_PARTITIONS),
    toolResult: (tool) => dynamicTopic(prefix + toolResultTopic(tool), TOOL_TOPIC_PARTITIONS),
  };
}

/** Partition counts and retention of the fixed topics without a prefix (`arenaTopics().fixed`). */
export const ARENA_TOPICS: TopicSpec[] = [...arenaTopics().fixed];

/**
 * The dead-letter topic for a record read from `sourceTopic`, when the reader did not say: the
 * source topic's prefix (what precedes a known arena topic name) plus `arena.dead_letter`.
 */
export function deadLetterTopicFor(sourceTopic: string): string {
  const fixed = [AGENT_INPUT_TOPIC, PRICE_TOPIC, LEDGER_TOPIC, ACTIVITY_TOPIC, TOOL_CATALOG_TOPIC];
  for (const name of fixed) {
    if (sourceTopic.endsWith(name)) {
      return arenaTopics(sourceTopic.slice(0, -name.length)).deadLetter.topic;
    }
  }
  const named =
    /^(.*?)(?:ai_prompted(?:\.[^.]+)?|agent_router\.private\..+|tool_node\.[^.]+\.(?:request|result))$/
      .exec(sourceTopic);
  return arenaTopics(named?.[1] ?? "").deadLetter.topic;
}
