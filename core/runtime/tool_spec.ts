/** A tool: a typed function with a zod input schema, offered to models as JSON Schema. */

import { z } from "zod";
import type { ToolDefinition } from "../contracts/chat.ts";
import type { ToolContext } from "../contracts/tools.ts";

/** What a tool returns to the model: `ok: false` is an error the model reads and can fix. */
export interface ToolOutcome {
  /** Whether the tool did what was asked. */
  ok: boolean;
  /** Text the model reads (JSON for structured results). */
  content: string;
}

/** A tool a ToolNode serves; `run` receives validated input and the caller's context. */
export interface ToolSpec<S extends z.ZodType = z.ZodType> {
  /** Name the model calls, e.g. `execute_trade`. */
  name: string;
  /** The model's manual for the tool. */
  description: string;
  /** Input schema: validates the model's arguments and generates the JSON Schema. */
  input: S;
  /**
   * The schema models are shown when it is narrower than what `input` accepts (optional fields
   * kept out of small models' way); default `input`.
   */
  offered?: z.ZodType;
  /** Runs the tool; the context (agent, tool call id) is injected, never shown to the model. */
  run(input: z.infer<S>, context: ToolContext): Promise<ToolOutcome>;
  /**
   * Called when this process was (re)assigned request partitions of the tool (a rebalance):
   * another replica may have served its callers meanwhile. Optional.
   */
  onAssigned?(): void;
}

/** The definition sent to models for a tool (a `run` is not needed), with JSON Schema from zod. */
export function toolDefinition(spec: Omit<ToolSpec, "run">): ToolDefinition {
  const { $schema: _schema, ...parameters } = z.toJSONSchema(spec.offered ?? spec.input, {
    io: "input",
  }) as
    & Record<string, unknown>
    & { $schema?: unknown };
  return { name: spec.name, description: spec.description, parameters };
}
