/** Custom strategies from a JSON file: `{ "name", "prompt", "rules"? }`, validated with zod. */

import { z } from "zod";
import { AgentName } from "../contracts/common.ts";
import { RULES_POLICY_IDS, type Strategy } from "./strategies.ts";

/** The JSON a strategy file holds. */
export const StrategyFile = z.object({
  /** Strategy name (and the default agent name when the router gets no `--name`). */
  name: AgentName,
  /** The system prompt. */
  prompt: z.string().trim().min(20, "Expected a prompt of at least 20 characters").max(20_000),
  /** Which offline rules policy plays it under `--model rules` (default momentum). */
  rules: z.enum(RULES_POLICY_IDS).optional(),
}).strict();
/** The JSON a strategy file holds. */
export type StrategyFile = z.infer<typeof StrategyFile>;

/** Parses a strategy file's text; throws a message naming the file and what is wrong. */
export function parseStrategyFile(text: string, source = "strategy file"): Strategy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `Strategy file ${source} must be JSON like {"name": "...", "prompt": "..."}, got invalid JSON (${
        (error as Error).message
      })`,
    );
  }
  const parsed = StrategyFile.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new Error(`Strategy file ${source} is invalid: ${problems}`);
  }
  const rules = parsed.data.rules ?? "momentum";
  return {
    name: parsed.data.name,
    prompt: parsed.data.prompt.trim(),
    rules,
  };
}

/** Reads and parses a strategy file. */
export async function loadStrategyFile(path: string): Promise<Strategy> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`Strategy file ${path} could not be read: ${(error as Error).message}`);
  }
  return parseStrategyFile(text, path);
}
