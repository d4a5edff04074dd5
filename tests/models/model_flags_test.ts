/** The model flags declared once for the chat node, the arena and the tournament. */

import assert from "node:assert/strict";
import { Command } from "@commander-js/extra-typings";
import {
  addModelFlags,
  addModelKindFlags,
  modelSecrets,
  openFlagModels,
} from "../../core/models/model_flags.ts";
import { RecordingMissError } from "../../core/models/recorded_model.ts";
import { createLogger } from "../../core/log.ts";
import type { ModelRequest } from "../../core/runtime/model_provider.ts";
import { startFakeOpenAI } from "../_fake_openai.ts";

const log = createLogger("t", { level: "error", sink: () => {} });

function parse(argv: string[]) {
  return addModelFlags(addModelKindFlags(new Command()))
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .parse(argv, { from: "user" })
    .opts();
}

const REQUEST: ModelRequest = {
  agent: "momentum",
  messages: [{ role: "system", content: "You trade." }, { role: "user", content: "Tick 1" }],
  tools: [],
};

Deno.test("model flags give createModel the same settings in every command", async () => {
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
  const models = await openFlagModels(flags, { log });
  const settings = models.settings;
  assert.equal(settings.apiKey, "local-key");
  assert.equal(settings.baseURL, "http://127.0.0.1:8080/v1");
  assert.equal(settings.timeoutMs, 1000);
  assert.deepEqual(settings.controls, {
    temperature: 0,
    seed: 42,
    maxTokens: 300,
    toolChoice: undefined,
  });
  assert.equal(models.create(flags.modelId).model, "qwen");
  assert.equal(models.recording.active, false);
  assert.equal(await models.close(), undefined);
});

Deno.test("--price-input and --price-output override one side of the built-in price", async () => {
  const prices = async (argv: string[], model: string) =>
    (await openFlagModels(parse(argv), { log })).prices([model]);
  assert.deepEqual(await prices([], "gpt-5-nano"), {});
  assert.deepEqual(await prices(["--price-input", "1"], "gpt-5-nano"), {
    "gpt-5-nano": { input: 1, output: 0.4 },
  });
  assert.deepEqual(await prices(["--price-output", "2"], "local"), {
    local: { input: 0, output: 2 },
  });
});

Deno.test("a model's seed replaces --seed for that model only", async () => {
  const fake = startFakeOpenAI({ responder: () => ({ kind: "message", content: "Hold" }) });
  try {
    const models = await openFlagModels(
      parse(["--base-url", fake.baseURL, "--api-key", "local-key", "--seed", "42"]),
      { log },
    );
    await models.create("qwen", { seed: 7 }).complete(REQUEST);
    await models.create("qwen").complete(REQUEST);
    assert.deepEqual(fake.requests.map((request) => request.body.seed), [7, 42]);
  } finally {
    await fake.close();
  }
});

Deno.test("the API key is the secret to redact", () => {
  assert.deepEqual(modelSecrets(parse(["--api-key", "local-key"])), ["local-key"]);
});

Deno.test("a replayed model needs no key and a miss fails the run unless --allow-misses", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/empty.jsonl`;
    await Deno.writeTextFile(file, "");
    const misses: RecordingMissError[] = [];
    const strict = await openFlagModels(
      parse(["--replay-model", file, "--api-key", "local-key"]),
      { log, onMiss: (miss) => misses.push(miss) },
    );
    assert.equal(strict.settings.apiKey, undefined, "a replay never calls the server");
    await assert.rejects(() => strict.create("gpt-5-nano").complete(REQUEST), RecordingMissError);
    assert.equal(misses.length, 1);
    assert.match(
      (await strict.close()) ?? "",
      /^No recorded answer for agent momentum .*; pass --allow-misses to go on regardless$/,
    );

    const lenient = await openFlagModels(parse(["--replay-model", file, "--allow-misses"]), {
      log,
      onMiss: (miss) => misses.push(miss),
    });
    await assert.rejects(() => lenient.create("gpt-5-nano").complete(REQUEST), RecordingMissError);
    assert.equal(misses.length, 1, "an allowed miss does not stop the run");
    assert.equal(await lenient.close(), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bad recording flag is a one-line error", async () => {
  await assert.rejects(
    () => openFlagModels(parse(["--allow-misses"]), { log }),
    { message: "--allow-misses applies to --replay-model" },
  );
});
