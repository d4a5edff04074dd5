/** Builders shared by the tools tests. */

import type { Bus, Subscription } from "../../core/bus/bus.ts";
import { encodeMessage, readAllMessages } from "../../core/bus/messages.ts";
import { LEDGER_TOPIC, PRICE_TOPIC } from "../../core/bus/topics.ts";
import { LedgerEvent } from "../../core/contracts/ledger.ts";
import type { PriceTick } from "../../core/contracts/market.ts";
import { ToolCallResult, type ToolContext } from "../../core/contracts/tools.ts";
import { createLogger, type Logger } from "../../core/log.ts";

/** A logger that keeps quiet unless something is wrong. */
export function quietLog(): Logger {
  return createLogger("test", { level: "error" });
}

/** A fresh price tick (the ledger tests' builder). */
export { tick as priceTick } from "../ledger/_fixtures.ts";

/** A tool context for an agent and tool call id. */
export function context(agent: string, toolCallId: string): ToolContext {
  return { agent, toolCallId, correlationId: `corr-${toolCallId}` };
}

/** Every event on the bus's ledger topic, in order. */
export async function ledgerEvents(bus: Bus): Promise<LedgerEvent[]> {
  const events: LedgerEvent[] = [];
  await readAllMessages(bus, LEDGER_TOPIC, {
    schema: LedgerEvent,
    log: quietLog(),
    handler: (event) => void events.push(event),
  });
  return events;
}

/** Publishes a price tick on the price topic, keyed by its product. */
export async function publishTick(bus: Bus, tick: PriceTick): Promise<void> {
  await bus.publish(PRICE_TOPIC, [{ key: tick.productId, value: encodeMessage(tick) }]);
}

/** Subscribes an inbox to the `replies` topic that appends every tool call result to `replies`. */
export function collectReplies(bus: Bus, replies: ToolCallResult[]): Promise<Subscription> {
  return bus.subscribe({
    groupId: "inbox",
    topics: ["replies"],
    handler: (record) => {
      replies.push(ToolCallResult.parse(JSON.parse(record.value)));
      return Promise.resolve();
    },
  });
}
