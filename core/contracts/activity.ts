/** Activity events: what each agent thinks and does, for dashboards (topic `arena.activity`). */

import { z } from "zod";
import { AgentName, Timestamp, Version } from "./common.ts";

const base = {
  v: Version,
  agent: AgentName,
  /** Market-clock time of the tick the event belongs to, or wall time outside ticks. */
  time: Timestamp,
  tick: z.number().int().nonnegative().optional(),
};

/**
 * How a decision ended: a valid answer, a reply that was not a valid call or decision even after
 * one correction, the step limit, a model error, or a timeout.
 */
export const DecisionOutcome = z.enum([
  "answered",
  "invalid",
  "step_limit",
  "model_error",
  "timeout",
]);
/** How a decision ended. */
export type DecisionOutcome = z.infer<typeof DecisionOutcome>;

/** Any activity event. */
export const ActivityEvent = z.discriminatedUnion("kind", [
  z.object({ ...base, kind: z.literal("reasoning"), text: z.string() }),
  z.object({
    ...base,
    kind: z.literal("tool_call"),
    tool: z.string(),
    toolCallId: z.string(),
    arguments: z.string(),
    /** Where the call came from: the model's tool calls, calls it wrote as text, or a JSON decision. */
    source: z.enum(["native", "text", "json"]).optional(),
  }),
  z.object({
    ...base,
    kind: z.literal("tool_result"),
    tool: z.string(),
    toolCallId: z.string(),
    ok: z.boolean(),
    content: z.string(),
  }),
  z.object({ ...base, kind: z.literal("error"), message: z.string() }),
  z.object({
    ...base,
    kind: z.literal("usage"),
    model: z.string(),
    promptTokens: z.number().int().nonnegative(),
    completionTokens: z.number().int().nonnegative(),
    /** Estimated cost in USD from the model's price table; 0 for the rules model. */
    costUsd: z.number().nonnegative(),
  }),
  z.object({
    ...base,
    kind: z.literal("decision"),
    /** Model calls made for this tick. */
    steps: z.number().int().nonnegative(),
    /** How the decision ended. */
    outcome: DecisionOutcome,
    /** Ticks replaced by newer ones while the agent was busy, so far. */
    skippedTicks: z.number().int().nonnegative(),
  }),
]);
/** Any activity event. */
export type ActivityEvent = z.infer<typeof ActivityEvent>;

/** A message that failed validation (topic `arena.dead_letter`). */
export const DeadLetter = z.object({
  v: Version,
  sourceTopic: z.string(),
  partition: z.number().int(),
  offset: z.string(),
  reason: z.string(),
  /** The invalid text, truncated to 4 KiB. */
  value: z.string(),
  time: Timestamp,
});
/** A message that failed validation. */
export type DeadLetter = z.infer<typeof DeadLetter>;
