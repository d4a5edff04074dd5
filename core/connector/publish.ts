/** Where and how the market feeds publish: topic names and publishing helpers. */

import type { Bus } from "../bus/bus.ts";
import { publishMessages } from "../bus/messages.ts";
import { ACTIVITY_TOPIC, AGENT_INPUT_TOPIC, ARENA_TOPICS, PRICE_TOPIC } from "../bus/topics.ts";
import type { MarketSnapshot, PriceTick } from "../contracts/market.ts";
import type { MarketTick } from "../market/csv_market.ts";

/** The topics a market feed uses. */
export interface MarketTopics {
  /** Snapshots for the agents (default `agent_router.input`). */
  snapshots: string;
  /** Price ticks keyed by product (default `arena.prices`). */
  prices: string;
  /** Activity events read by lockstep (default `arena.activity`). */
  activity: string;
}

/** The arena's fixed market topics. */
export const MARKET_TOPICS: MarketTopics = {
  snapshots: AGENT_INPUT_TOPIC,
  prices: PRICE_TOPIC,
  activity: ACTIVITY_TOPIC,
};

/** The fixed topics with any overrides applied (benches and tests use private topics). */
export function marketTopics(overrides: Partial<MarketTopics> = {}): MarketTopics {
  return { ...MARKET_TOPICS, ...overrides };
}

/** Creates the market topics with the arena's partition counts and retention. */
export async function ensureMarketTopics(bus: Bus, topics: MarketTopics): Promise<void> {
  const specOf = (fixed: string, topic: string) => {
    const spec = ARENA_TOPICS.find((entry) => entry.topic === fixed)!;
    return { ...spec, topic };
  };
  await bus.ensureTopics([
    specOf(AGENT_INPUT_TOPIC, topics.snapshots),
    specOf(PRICE_TOPIC, topics.prices),
    specOf(ACTIVITY_TOPIC, topics.activity),
  ]);
}

/** Publishes price ticks keyed by product id. */
export async function publishPriceTicks(
  bus: Bus,
  ticks: PriceTick[],
  topics: MarketTopics = MARKET_TOPICS,
): Promise<void> {
  if (ticks.length === 0) return;
  await publishMessages(
    bus,
    topics.prices,
    ticks.map((message) => ({ key: message.productId, message })),
  );
}

/** Publishes one snapshot to the agents' input topic. */
export async function publishSnapshot(
  bus: Bus,
  snapshot: MarketSnapshot,
  topics: MarketTopics = MARKET_TOPICS,
): Promise<void> {
  await publishMessages(bus, topics.snapshots, [{ message: snapshot }]);
}

/** Publishes one tick: price ticks first (so fills see them), then the snapshot. */
export async function publishTick(
  bus: Bus,
  tick: MarketTick,
  topics: MarketTopics = MARKET_TOPICS,
): Promise<void> {
  await publishPriceTicks(bus, tick.priceTicks, topics);
  await publishSnapshot(bus, tick.snapshot, topics);
}
