/**
 * The model flags of the chat node, the arena and the tournament, declared once: the server
 * (`--base-url`, `--api-key`, `--reasoning-effort`, `--timeout-ms`, `--max-workers`), the request
 * controls, and recorded answers (`--record-model`, `--replay-model`, `--allow-misses`); plus
 * `--model` and `--model-id` where one model is chosen. {@linkcode openFlagModels} turns them into
 * models, so every command builds its models the same way.
 */

import { type Command, Option, type OptionValues } from "@commander-js/extra-typings";
import {
  addRequestControlFlags,
  nonNegativeNumberFlag,
  positiveIntFlag,
  requestControls,
} from "../cli.ts";
import { DEFAULT_PRICE_TABLE, type PriceTable } from "../runtime/chat_node.ts";
import type { Logger } from "../log.ts";
import type { ModelProvider, RequestControls, ToolChoice } from "../runtime/model_provider.ts";
import { createModel, type CreateModelOptions } from "./create_model.ts";
import { REASONING_EFFORTS, type ReasoningEffort } from "./openai_provider.ts";
import { ModelRecording, type RecordingMissError } from "./recorded_model.ts";

/** Default model id on an OpenAI-compatible server (the original's). */
export const DEFAULT_MODEL_ID = "gpt-5-nano";

/** Default timeout of one model HTTP request, in milliseconds. */
export const DEFAULT_MODEL_TIMEOUT_MS = 60_000;

/** Adds the model server, request-control, recording and cost flags (values: {@linkcode ModelFlags}). */
// deno-lint-ignore no-explicit-any
export function addModelFlags<Args extends any[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
): Command<Args, Opts & ModelFlags> {
  // Declared on the untyped command and typed once at the end: inferring the chain on a generic
  // command costs the type checker minutes.
  const untyped = command as unknown as Command;
  addRequestControlFlags(untyped)
    .option("--base-url <url>", "base URL of an OpenAI-compatible server (default OpenAI)")
    .option("--api-key <key>", "API key (default $OPENAI_API_KEY)")
    .addOption(
      new Option("--reasoning-effort <effort>", "reasoning effort of reasoning models")
        .choices(REASONING_EFFORTS),
    )
    .option(
      "--timeout-ms <ms>",
      "timeout of one model HTTP request",
      positiveIntFlag,
      DEFAULT_MODEL_TIMEOUT_MS,
    )
    .option("--max-workers <n>", "concurrent model calls per model", positiveIntFlag, 10)
    .option("--record-model <file>", "write every model answer to FILE (JSON lines)")
    .option("--replay-model <file>", "answer from a recording instead of calling the model ($0)")
    .option("--allow-misses", "with --replay-model: answer unrecorded requests with an error")
    .option(
      "--price-input <usd>",
      "USD per million prompt tokens for cost estimates (overrides the built-in price table)",
      nonNegativeNumberFlag,
    )
    .option(
      "--price-output <usd>",
      "USD per million completion tokens for cost estimates",
      nonNegativeNumberFlag,
    );
  return command as unknown as Command<Args, Opts & ModelFlags>;
}

/** The values of {@linkcode addModelKindFlags}' flags. */
export type ModelKindFlags = {
  /** `--model`: openai or rules (absent: the command's default). */
  model?: "openai" | "rules";
  /** `--model-id` (default gpt-5-nano). */
  modelId: string;
};

/** Adds `--model openai|rules` (no default: each command picks its own) and `--model-id`. */
// deno-lint-ignore no-explicit-any
export function addModelKindFlags<Args extends any[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
): Command<Args, Opts & ModelKindFlags> {
  const untyped = command as unknown as Command;
  untyped
    .addOption(
      new Option("--model <kind>", "openai (any OpenAI-compatible server) or rules (offline)")
        .choices(["openai", "rules"] as const),
    )
    .option("--model-id <id>", "model id sent to the server", DEFAULT_MODEL_ID);
  return command as unknown as Command<Args, Opts & ModelKindFlags>;
}

/** The values of {@linkcode addModelFlags}' flags. */
export type ModelFlags = {
  /** `--base-url`. */
  baseUrl?: string;
  /** `--api-key`. */
  apiKey?: string;
  /** `--reasoning-effort`. */
  reasoningEffort?: ReasoningEffort;
  /** `--timeout-ms`. */
  timeoutMs: number;
  /** `--max-workers`. */
  maxWorkers: number;
  /** `--temperature`. */
  temperature?: number;
  /** `--seed`. */
  seed?: number;
  /** `--max-tokens`. */
  maxTokens?: number;
  /** `--tool-choice`. */
  toolChoice?: ToolChoice;
  /** `--record-model`. */
  recordModel?: string;
  /** `--replay-model`. */
  replayModel?: string;
  /** `--allow-misses`. */
  allowMisses?: boolean;
  /** `--price-input`. */
  priceInput?: number;
  /** `--price-output`. */
  priceOutput?: number;
};

/** The secrets of the flags to redact from logs and replies: the API key, when there is one. */
export function modelSecrets(flags: Pick<ModelFlags, "apiKey">): string[] {
  const apiKey = apiKeyOf(flags);
  return apiKey ? [apiKey] : [];
}

/** Options for {@linkcode openFlagModels}. */
export interface FlagModelsOptions {
  /** The command's logger; models log retries to its `model` child. */
  log: Logger;
  /** Called once at the first request not in a replayed recording (e.g. to stop the run). */
  onMiss?: (error: RecordingMissError) => void;
}

/** What a command knows about one model beyond the flags. */
export interface ModelExtras
  extends Pick<CreateModelOptions, "takerFeeBps" | "increments" | "runId"> {
  /** Sampling seed of this run, over `--seed`. */
  seed?: number;
}

/** The models a command's flags describe, with the recording they answer from or write to. */
export interface FlagModels {
  /** The `--record-model` / `--replay-model` recording (inactive without those flags). */
  readonly recording: ModelRecording;
  /** The settings of `createModel` given by the flags (no API key when replaying). */
  readonly settings: Omit<CreateModelOptions, "model" | "log">;
  /** Builds one model: `rules` or a model id on the server; throws when it needs a missing key. */
  create(model: string, extras?: ModelExtras): ModelProvider;
  /** The cost table entries `--price-input` / `--price-output` give for these model ids. */
  prices(models: readonly string[]): PriceTable;
  /**
   * Closes the recording; resolves to why the run failed (a request not in the replayed
   * recording without `--allow-misses`), else undefined.
   */
  close(): Promise<string | undefined>;
}

/**
 * Opens the recording the flags ask for and builds models the same way in every command: the
 * server, the API key (`--api-key` or `$OPENAI_API_KEY`), the request controls and the recording,
 * plus what the command adds per model (the desk's fee, a masked replay's increments, a run id,
 * a seed per run). Throws a one-line error naming a bad recording flag or file.
 */
export async function openFlagModels(
  flags: ModelFlags,
  options: FlagModelsOptions,
): Promise<FlagModels> {
  const recording = await ModelRecording.open({
    record: flags.recordModel,
    replay: flags.replayModel,
    allowMisses: flags.allowMisses,
    onMiss: options.onMiss,
  });
  const controls: RequestControls = requestControls(flags);
  const settings: FlagModels["settings"] = {
    apiKey: recording.replaying ? undefined : apiKeyOf(flags),
    baseURL: flags.baseUrl,
    reasoningEffort: flags.reasoningEffort,
    timeoutMs: flags.timeoutMs,
    controls,
    recording,
  };
  const log = options.log.child("model");
  return {
    recording,
    settings,
    create: (model, extras = {}) =>
      createModel({
        ...settings,
        model,
        controls: extras.seed === undefined ? controls : { ...controls, seed: extras.seed },
        runId: extras.runId,
        takerFeeBps: extras.takerFeeBps,
        increments: extras.increments,
        log,
      }),
    prices: (models) => priceOverrides(flags, models),
    close: async () => {
      await recording.close();
      if (!recording.miss || flags.allowMisses) return undefined;
      return `${recording.miss.message}; pass --allow-misses to go on regardless`;
    },
  };
}

/**
 * The cost table entries `--price-input` / `--price-output` give for these models (each flag
 * overrides one side of the built-in price; empty without the flags).
 */
function priceOverrides(
  flags: Pick<ModelFlags, "priceInput" | "priceOutput">,
  models: readonly string[],
): PriceTable {
  const table: PriceTable = {};
  if (flags.priceInput === undefined && flags.priceOutput === undefined) return table;
  for (const model of models) {
    const known = DEFAULT_PRICE_TABLE[model] ?? { input: 0, output: 0 };
    table[model] = {
      input: flags.priceInput ?? known.input,
      output: flags.priceOutput ?? known.output,
    };
  }
  return table;
}

/** The API key of the flags: `--api-key`, else `$OPENAI_API_KEY` (when readable), else none. */
function apiKeyOf(flags: Pick<ModelFlags, "apiKey">): string | undefined {
  if (flags.apiKey !== undefined) return flags.apiKey;
  // Offline tasks (the demo) may not read the environment: no permission means no key.
  const allowed = Deno.permissions.querySync({ name: "env", variable: "OPENAI_API_KEY" });
  return allowed.state === "granted" ? Deno.env.get("OPENAI_API_KEY") : undefined;
}
