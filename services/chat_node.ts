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

import { brokerCommand, parseFlags, usageError } from "../core/cli.ts";
import { createLogger } from "../core/log.ts";
import { brokerServiceOptions, startService } from "../core/service.ts";
import {
  addModelFlags,
  addModelKindFlags,
  modelSecrets,
  openFlagModels,
} from "../core/models/model_flags.ts";
import { startChatNode } from "../core/runtime/chat_node.ts";
import type { ModelProvider } from "../core/runtime/model_provider.ts";

const program = addModelFlags(addModelKindFlags(
  brokerCommand("chat_node", {
    description: "LLM inference service: one model answering agents' chat requests",
  })
    .option("--name <name>", "chat node name: consumes ai_prompted.<name> (default ai_prompted)"),
));

const options = parseFlags(program);
const kind = options.model ?? "openai";
const secrets = modelSecrets(options);
const log = createLogger(`chat_node.${options.name ?? "shared"}`, {
  level: options.logLevel,
  secrets,
});

const models = await openFlagModels(options, {
  log,
  onMiss: (miss) => log.error("Request not in the recording", { error: miss.message }),
}).catch((error: Error) => usageError("chat_node", error.message));
let provider: ModelProvider;
try {
  provider = models.create(kind === "rules" ? "rules" : options.modelId);
} catch (error) {
  usageError("chat_node", (error as Error).message);
}

await startService(
  brokerServiceOptions("chat_node", {
    flags: options,
    clientId: `chat_node.${options.name ?? "shared"}.${crypto.randomUUID().slice(0, 8)}`,
    log,
  }),
  async ({ bus }) => {
    const node = await startChatNode(bus, {
      provider,
      costPerMillionTokens: models.prices([provider.model]),
      name: options.name,
      maxWorkers: options.maxWorkers,
      log,
      secrets,
      topicPrefix: options.topicPrefix,
    });
    log.notice("Chat node ready", {
      topic: node.topic,
      model: node.model,
      baseUrl: kind === "openai" ? options.baseUrl ?? "OpenAI" : undefined,
    });
    return async () => {
      await node.stop();
      await models.close();
      log.notice("Chat node stopped", node.stats() as unknown as Record<string, unknown>);
    };
  },
);
