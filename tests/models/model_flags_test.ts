/** The model flags declared once for the chat node, the arena and the tournament. */

import assert from "node:assert/strict";
import { Command } from "@commander-js/extra-typings";
import {
  addModelFlags,
  addModelKindFlags,
  modelSettings,
  priceOverrides,
} from "../../core/models/model_flags.ts";
import { createModel } from "../../core/models/create_model.ts";
import { createLogger } from "../../core/log.ts";

function parse(argv: string[]) {
  return addModelFlags(addModelKindFlags(new Command()))
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .parse(argv, { from: "user" })
    .opts();
}

Deno.test("model flags give createModel the same settings in every command", () => {
  const flags = parse([
    "--model-id",
    "qwen",
    "--base-url",
    "http://127.0.0.1:8080/v1",
    "--api-key",
    "local-key",
    "--temperature",
    "0",
    "--seed",
    "42",
    "--max-tokens",
    "300",
    "--timeout-ms",
    "1000",
  ]);
  assert.equal(flags.model, undefined, "each command picks its default kind");
  assert.equal(flags.modelId, "qwen");
  assert.equal(flags.maxWorkers, 10);
  const settings = modelSettings(flags);
  assert.equal(settings.apiKey, "local-key");
  assert.equal(settings.baseURL, "http://127.0.0.1:8080/v1");
  assert.equal(settings.timeoutMs, 1000);
  assert.deepEqual(settings.controls, {
    temperature: 0,
    seed: 42,
    maxTokens: 300,
    toolChoice: undefined,
  });
  const model = createModel({ ...settings, model: flags.modelId, log: createLogger("t") });
  assert.equal(model.model, "qwen");
});

Deno.test("--price-input and --price-output override one side of the built-in price", () => {
  assert.deepEqual(priceOverrides(parse([]), ["gpt-5-nano"]), {});
  assert.deepEqual(priceOverrides(parse(["--price-input", "1"]), ["gpt-5-nano"]), {
    "gpt-5-nano": { input: 1, output: 0.4 },
  });
  assert.deepEqual(priceOverrides(parse(["--price-output", "2"]), ["local"]), {
    local: { input: 0, output: 2 },
  });
});
