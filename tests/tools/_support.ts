/** Builders shared by the tools tests. */

import type { PriceTick } from "../../core/contracts/market.ts";
import type { ToolContext } from "../../core/contracts/tools.ts";
import { createLogger, type Logger } from "../../core/log.ts";

/** A logger that keeps quiet unless something is wrong. */
export function quietLog(): Logger {
  return createLogger("test", { level: "error" });
}

/** A fresh price tick. */
export function priceTick(
  productId: string,
  options: { bid: string; ask: string; time?: string; stale?: boolean },
): PriceTick {
  return {
    v: 1,
    productId,
    price: options.bid,
    bestBid: options.bid,
    bestAsk: options.ask,
    time: options.time ?? "2017-09-03T12:00:00.000Z",
    stale: options.stale ?? false,
  };
}

/** A tool context for an agent and tool call id. */
export function context(agent: string, toolCallId: string): ToolContext {
  return { agent, toolCallId, correlationId: `corr-${toolCallId}` };
}
