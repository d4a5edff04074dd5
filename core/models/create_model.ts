/**
 * One way to build a model from settings, shared by the chat node service, the embedded arena,
 * the tournament and the benchmarks: `rules` (offline) or any OpenAI-compatible server, with the
 * same features everywhere (request controls, the rules model's fee and increments, recorded
 * answers). The flags that give these settings are declared once, in core/models/model_flags.ts.
 */

import type { Logger } from "../log.ts";
import type { ModelProvider, RequestControls } from "../runtime/model_provider.ts";
import { OpenAIProvider, type ReasoningEffort } from "./openai_provider.ts";
import { RULES_MODEL_ID, RulesModel } from "./rules_model.ts";
import type { ModelRecording } from "./recorded_model.ts";

/** Settings of a model. */
export interface CreateModelOptions {
  /** `rules` for the offline model, else the model id sent to the server. */
  model: string;
  /** API key (needed for every model but `rules`; any text for servers without keys). */
  apiKey?: string;
  /** Base URL of an OpenAI-compatible server (default OpenAI). */
  baseURL?: string;
  /** `reasoning_effort` for reasoning models. */
  reasoningEffort?: ReasoningEffort;
  /** Timeout of one HTTP request in milliseconds (provider default when absent). */
  timeoutMs?: number;
  /** Temperature, seed, token limit and tool choice. */
  controls?: RequestControls;
  /** Part of the rules model's tool call ids (deterministic replays). */
  runId?: string;
  /** The desk's taker fee, so the rules model's policies clear it (default 60 bps). */
  takerFeeBps?: number;
  /** Quantity increments by product for the rules model (a masked replay's). */
  increments?: Readonly<Record<string, string>>;
  /**
   * Writes every answer to, or answers from, a recording (`--record-model`, `--replay-model`);
   * a replayed model needs no API key.
   */
  recording?: ModelRecording;
  /** Where retries are logged. */
  log: Logger;
}

/** Builds the model; throws a one-line error naming what is missing (e.g. the API key). */
export function createModel(options: CreateModelOptions): ModelProvider {
  if (options.recording) {
    return options.recording.provider(options.model, () => liveModel(options));
  }
  return liveModel(options);
}

/** The model itself, without a recording. */
function liveModel(options: CreateModelOptions): ModelProvider {
  if (options.model === RULES_MODEL_ID) {
    return new RulesModel({
      runId: options.runId,
      takerFeeBps: options.takerFeeBps,
      increments: options.increments,
    });
  }
  if (!options.apiKey) {
    throw new Error(
      `An API key is needed for model ${options.model}: pass --api-key or set OPENAI_API_KEY ` +
        "(servers without keys such as Ollama or llama.cpp accept any text), or use the rules " +
        "model to run offline",
    );
  }
  return new OpenAIProvider({
    model: options.model,
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    reasoningEffort: options.reasoningEffort,
    timeoutMs: options.timeoutMs,
    controls: options.controls,
    log: options.log,
  });
}
