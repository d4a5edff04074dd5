/**
 * Chat node service: answers agents' chat requests on `ai_prompted.<name>` (or the shared
 * `ai_prompted`) with one model: any OpenAI-compatible server (`--model openai`, the default) or
 * the offline deterministic `rules` model (`--model rules`).
 *
 * `deno task chat_node` allows the network to api.openai.com, localhost and 127.0.0.1 only. For
 * another provider or a remote broker, widen `--allow-net` with its host, e.g.
 * `deno run --allow-net=api.deepseek.com,localhost,127.0.0.1 --allow-env=... services/chat_node.ts
 * --name deepseek --model-id deepseek-chat --base-url https://api.deepseek.com --api-key ...`
 * (OpenRouter: openrouter.ai; Ollama and vLLM on this machine need no change).
 * The API key is redacted from every log line and error reply.
 */

import { Option } from "@commander-js/extra-typings";
import {
  addRequestControlFlags,
  brokerCommand,
  nonNegativeNumberFlag,
  parseFlags,
  positiveIntFlag,
  requestControls,
  usageError,
} from "../core/cli.ts";
import { createLogger } from "../core/log.ts";
import { startService } from "../core/service.ts";
import { createModel } from "../core/models/create_model.ts";
import { REASONING_EFFORTS, type ReasoningEffort } from "../core/models/openai_provider.ts";
import { DEFAULT_PRICE_TABLE, type PriceTable, startChatNode } from "../core/runtime/chat_node.ts";
import type { ModelProvider } from "../core/runtime/model_provider.ts";

const program = addRequestControlFlags(
  brokerCommand("chat_node", {
    description: "LLM inference service: one model answering agents' chat requests",
  })
    .option("--name <name>", "chat node name: consumes ai_prompted.<name> (default ai_prompted)")
    .addOption(
      new Option("--model <kind>", "openai (any OpenAI-compatible server) or rules (offline)")
        .choices(["openai", "rules"] as const).default("openai" as const),
    )
    .option("--model-id <id>", "model id sent to the server", "gpt-5-nano")
    .option("--base-url <url>", "base URL of an OpenAI-compatible server (default OpenAI)")
    .option("--api-key <key>", "API key (default $OPENAI_API_KEY)")
    .option("--max-workers <n>", "concurrent model calls", positiveIntFlag, 10)
    .addOption(
      new Option("--reasoning-effort <effort>", "reasoning effort of reasoning models")
        .choices(REASONING_EFFORTS),
    )
    .option("--timeout-ms <ms>", "timeout of one model HTTP request", positiveIntFlag, 60_000)
    .option(
      "--price-input <usd>",
      "USD per million prompt tokens for cost estimates (overrides the built-in price table)",
      nonNegativeNumberFlag,
    )
    .option(
      "--price-output <usd>",
      "USD per million completion tokens for cost estimates",
      nonNegativeNumberFlag,
    )
    .option("--topic-prefix <prefix>", "prefix of every topic name (isolated arenas, tests)", ""),
);

const options = parseFlags(program);
const apiKey = options.apiKey ?? Deno.env.get("OPENAI_API_KEY") ?? "";
const secrets = apiKey ? [apiKey] : [];
const log = createLogger(`chat_node.${options.name ?? "shared"}`, {
  level: options.logLevel,
  secrets,
});

let provider: ModelProvider;
try {
  provider = createModel({
    model: options.model === "rules" ? "rules" : options.modelId,
    apiKey,
    baseURL: options.baseUrl,
    reasoningEffort: options.reasoningEffort as ReasoningEffort | undefined,
    timeoutMs: options.timeoutMs,
    controls: requestControls(options),
    log: log.child("model"),
  });
} catch (error) {
  usageError("chat_node", (error as Error).message);
}

const costPerMillionTokens: PriceTable = {};
if (options.priceInput !== undefined || options.priceOutput !== undefined) {
  const known = DEFAULT_PRICE_TABLE[provider.model] ?? { input: 0, output: 0 };
  costPerMillionTokens[provider.model] = {
    input: options.priceInput ?? known.input,
    output: options.priceOutput ?? known.output,
  };
}
await startService({
  name: "chat_node",
  bootstrapServers: options.bootstrapServers,
  clientId: `chat_node.${options.name ?? "shared"}.${crypto.randomUUID().slice(0, 8)}`,
  log,
}, async ({ bus }) => {
  const node = await startChatNode(bus, {
    provider,
    costPerMillionTokens,
    name: options.name,
    maxWorkers: options.maxWorkers,
    log,
    secrets,
    topicPrefix: options.topicPrefix,
  });
  log.notice("Chat node ready", {
    topic: node.topic,
    model: node.model,
    baseUrl: options.model === "openai" ? options.baseUrl ?? "OpenAI" : undefined,
  });
  return async () => {
    await node.stop();
    log.notice("Chat node stopped", node.stats() as unknown as Record<string, unknown>);
  };
});
