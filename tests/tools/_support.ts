/** Builders shared by the tools tests. */

import type { ToolContext } from "../../core/contracts/tools.ts";
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
