/** What a tools node serves, as models see it: published on the compacted tool catalog topic. */

import { z } from "zod";
import { Timestamp, Version } from "./common.ts";
import { ToolDefinition } from "./chat.ts";
import { DeskTerms } from "./desk.ts";

/**
 * One tools node's catalog (topic `arena.tool_catalog`, keyed by `service`): the definitions of
 * the tools it serves, built from its real settings (fee, slippage). The last one per service
 * is the one routers offer.
 */
export const ToolCatalog = z.object({
  v: Version,
  /** The tools service publishing it (the record key), e.g. `trading`. */
  service: z.string().min(1).max(64),
  /** The tools, in the order models are offered them. */
  tools: z.array(ToolDefinition).min(1),
  /** The terms its trading tools fill on (absent for a service that does not trade). */
  desk: DeskTerms.optional(),
  /** Wall-clock time of publication. */
  time: Timestamp,
});
/** One tools node's catalog. */
export type ToolCatalog = z.infer<typeof ToolCatalog>;
