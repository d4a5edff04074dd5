/** Tool call requests to tool nodes and their results. */

import { z } from "zod";
import { AgentName, Timestamp, Version } from "./common.ts";

/** Who is calling a tool: injected by the router, never shown to the model. */
export const ToolContext = z.object({
  agent: AgentName,
  toolCallId: z.string().min(1),
  correlationId: z.string().min(1),
  tick: z.number().int().nonnegative().optional(),
});
/** Who is calling a tool. */
export type ToolContext = z.infer<typeof ToolContext>;

/** A request to run one tool (topic `tool_node.<tool>.request`). */
export const ToolCallRequest = z.object({
  v: Version,
  correlationId: z.string().min(1),
  replyTo: z.string().min(1),
  tool: z.string().min(1),
  /** Raw JSON text from the model; the tool node validates it. */
  arguments: z.string(),
  context: ToolContext,
  /** Wall-clock time after which the caller stops waiting; a tool node does not run the tool. */
  expiresAt: Timestamp.optional(),
});
/** A request to run one tool. */
export type ToolCallRequest = z.infer<typeof ToolCallRequest>;

/** A tool's answer; `ok: false` carries an error the model reads. */
export const ToolCallResult = z.object({
  v: Version,
  correlationId: z.string().min(1),
  toolCallId: z.string().min(1),
  tool: z.string().min(1),
  agent: AgentName,
  ok: z.boolean(),
  content: z.string(),
});
/** A tool's answer. */
export type ToolCallResult = z.infer<typeof ToolCallResult>;
