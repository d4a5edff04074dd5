import assert from "node:assert/strict";
import { defaultAgents } from "../../core/agents/strategies.ts";
import { runArena } from "../../core/arena/arena.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { LEDGER_TOPIC } from "../../core/bus/topics.ts";
import { loadFixtureCandles, type ReplaySource } from "../../core/connector/replay.ts";
import type { AssistantMessage, ToolDefinition } from "../../core/contracts/chat.ts";
import { createLogger } from "../../core/log.ts";
import {
  canonicalJson,
  loadRecordedAnswers,
  parseRecordedAnswers,
  type RecordedAnswer,
  RecordingMissError,
  RecordingModel,
  RecordingWriter,
  ReplayedModel,
  requestHash,
} from "../../core/models/recorded_model.ts";
import type {
  ModelProvider,
  ModelRequest,
  ModelResponse,
} from "../../core/runtime/model_provider.ts";
import { Calculator } from "../../core/tools/calculator.ts";

const quiet = createLogger("test", { level: "error", sink: () => {} });

const TOOLS: ToolDefinition[] = [
  { name: "execute_trade", description: "trade", parameters: { type: "object" } },
];

function request(prompt: string, extra: Partial<ModelRequest> = {}): ModelRequest {
  return {
    agent: "momentum",
    messages: [
      { role: "system", content: "You trade momentum." },
      { role: "user", content: prompt },
    ],
    tools: TOOLS,
    ...extra,
  };
}

/** A local fake model: every answer carries fresh random ids and text, as an LLM's would. */
class FakeModel implements ModelProvider {
  readonly model = "fake-llm";
  calls = 0;

  complete(request: ModelRequest): Promise<ModelResponse> {
    this.calls++;
    const lastUser = request.messages.findLastIndex((message) => message.role === "user");
    const answered = request.messages.slice(lastUser + 1).some((m) => m.role === "tool");
    const product = request.snapshot?.products[0]?.productId;
    const tick = request.snapshot?.tick ?? 0;
    let message: AssistantMessage;
    if (answered || !product || !request.tools.some((tool) => tool.name === "execute_trade")) {
      message = { role: "assistant", content: `Done ${crypto.randomUUID()}`, toolCalls: [] };
    } else {
      message = {
        role: "assistant",
        content: `Tick ${tick}: trading ${crypto.randomUUID().slice(0, 6)}`,
        toolCalls: [{
          id: `call_${crypto.randomUUID()}`,
          name: "execute_trade",
          arguments: JSON.stringify({
            product_id: product,
            quantity: "0.01",
            action: tick % 3 === 0 ? "sell" : "buy",
          }),
        }],
      };
    }
    return Promise.resolve({
      message,
      usage: { promptTokens: 100 + this.calls, completionTokens: 10 },
      model: this.model,
    });
  }
}

async function recordTo(path: string, requests: ModelRequest[]): Promise<ModelResponse[]> {
  const writer = await RecordingWriter.create(path);
  const model = new RecordingModel(new FakeModel(), { writer });
  const responses: ModelResponse[] = [];
  for (const entry of requests) responses.push(await model.complete(entry));
  await writer.close();
  return responses;
}

Deno.test("canonicalJson sorts keys at every level and leaves out undefined members", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } }),
    '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
  );
});

Deno.test("requestHash covers the model id and every request field, not key order", () => {
  const base = request("Market T+0h05m");
  const hash = requestHash(base, "m1");
  assert.match(hash, /^[0-9a-f]{64}$/);
  const reordered = { tools: base.tools, messages: base.messages, agent: base.agent };
  assert.equal(requestHash(reordered, "m1"), hash);
  assert.notEqual(requestHash(base, "m2"), hash);
  assert.notEqual(requestHash(request("Market T+0h10m"), "m1"), hash);
  // A field ModelRequest gains later counts too.
  const extended = { ...base, controls: { temperature: 0 } } as ModelRequest;
  assert.notEqual(requestHash(extended, "m1"), hash);
});

Deno.test("RecordingModel writes every answer and ReplayedModel gives them back", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    const requests = [request("tick 1"), request("tick 2"), request("tick 1")];
    const responses = await recordTo(path, requests);
    const answers = await loadRecordedAnswers(path);
    assert.equal(answers.length, 3);
    assert.equal(answers[0]!.hash, requestHash(requests[0]!, "fake-llm"));
    assert.equal(answers[0]!.model, "fake-llm");
    const replayed = new ReplayedModel(answers, { model: "fake-llm" });
    assert.equal(replayed.model, "fake-llm");
    // The same request twice: the first and second recorded answers in turn, then the last.
    assert.deepEqual(await replayed.complete(request("tick 1")), responses[0]);
    assert.deepEqual(await replayed.complete(request("tick 1")), responses[2]);
    assert.deepEqual(await replayed.complete(request("tick 1")), responses[2]);
    assert.deepEqual(await replayed.complete(request("tick 2")), responses[1]);
    assert.equal(replayed.misses, 0);
    // Another model's answers are not served.
    const other = new ReplayedModel(answers, { model: "gpt-5-nano", allowMisses: true });
    await assert.rejects(() => other.complete(request("tick 1")), RecordingMissError);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("a miss names the first difference against the closest recorded request", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await recordTo(path, [
      request("Market T+0h05m tick 2 ASSETA-USD p=100"),
      request("Something else entirely", { agent: "scalper" }),
    ]);
    const answers = await loadRecordedAnswers(path);
    const misses: RecordingMissError[] = [];
    const replayed = new ReplayedModel(answers, {
      model: "fake-llm",
      onMiss: (error) => misses.push(error),
    });
    await assert.rejects(
      () => replayed.complete(request("Market 2017-09-03T04:05:00.000Z tick 2 BTC-USD p=4652")),
      (error: Error) => {
        assert.ok(error instanceof RecordingMissError);
        assert.match(
          error.message,
          /^No recorded answer for agent momentum \(model fake-llm\): message 2 \(user\) differs: recorded 'Market T\+0h05m tick 2 ASSETA-USD p=100', got 'Market 2017-09-03T04:05:00.000Z tick 2 BTC-USD p=4652' \(closest recorded request, 1 difference\)/,
        );
        return true;
      },
    );
    assert.equal(misses.length, 1, "without allowMisses a miss is reported to stop the run");
    assert.equal(replayed.misses, 1);

    await assert.rejects(
      () => replayed.complete(request("x", { agent: "brainrot" })),
      /no request of this agent; agents recorded for fake-llm: momentum, scalper/,
    );
    await assert.rejects(
      () => replayed.complete(request("Market T+0h05m tick 2 ASSETA-USD p=100", { tools: [] })),
      /tools differs from the recorded request/,
    );

    const lenient = new ReplayedModel(answers, {
      model: "fake-llm",
      allowMisses: true,
      onMiss: (error) => misses.push(error),
    });
    await assert.rejects(() => lenient.complete(request("other")), RecordingMissError);
    assert.equal(misses.length, 3, "allowMisses answers with an error and does not stop the run");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("parseRecordedAnswers names the line that is not a recorded answer", () => {
  assert.deepEqual(parseRecordedAnswers("\n\n"), []);
  assert.throws(() => parseRecordedAnswers("{}\nnot json", "r.jsonl"), /r.jsonl line 1 .*v/);
  assert.throws(() => parseRecordedAnswers("\nnot json", "r.jsonl"), /r.jsonl line 2 is not JSON/);
});

interface ArenaRun {
  /**
   * Ledger event lines per account (agent), in ledger order. Agents decide side by side, so how
   * two accounts' events interleave in a shared partition depends on scheduling; each account's
   * own stream is what must be byte-identical.
   */
  ledger: Record<string, string[]>;
}

async function arenaRun(
  provider: ModelProvider,
  options: { source: ReplaySource; calculator: Calculator; signal?: AbortSignal },
): Promise<ArenaRun> {
  const bus = new MemoryBus();
  try {
    await runArena(bus, {
      agents: defaultAgents(),
      models: [{ provider }],
      market: {
        kind: "replay",
        source: options.source,
        intervalSeconds: 300,
        lockstep: true,
        maxTicks: 8,
      },
      runId: "recorded",
      log: quiet,
      calculator: options.calculator,
      signal: options.signal,
    });
    const ledger: Record<string, string[]> = {};
    await bus.readAll(LEDGER_TOPIC, (record) => {
      (ledger[record.key ?? ""] ??= []).push(record.value);
      return Promise.resolve();
    });
    return { ledger };
  } finally {
    await bus.close();
  }
}

Deno.test("a recorded arena run replays with a byte-identical ledger", async () => {
  const calculator = new Calculator();
  await calculator.warmUp();
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    const source = await loadFixtureCandles("main");
    const fake = new FakeModel();
    const writer = await RecordingWriter.create(path);
    const recorded = await arenaRun(new RecordingModel(fake, { writer }), { source, calculator });
    await writer.close();
    const answers: RecordedAnswer[] = await loadRecordedAnswers(path);
    assert.equal(answers.length, fake.calls);
    assert.deepEqual(Object.keys(recorded.ledger).sort(), [
      "brainrot-daytrader",
      "momentum",
      "scalper",
    ]);
    for (const lines of Object.values(recorded.ledger)) {
      assert.ok(lines.filter((line) => line.includes('"trade_executed"')).length >= 3);
    }

    // Unrecorded, the fake model's random ids give another ledger.
    const fresh = await arenaRun(new FakeModel(), { source, calculator });
    assert.notDeepEqual(fresh.ledger, recorded.ledger);

    const misses: RecordingMissError[] = [];
    const replayed = new ReplayedModel(answers, {
      model: "fake-llm",
      onMiss: (error) => misses.push(error),
    });
    const replay = await arenaRun(replayed, { source, calculator });
    assert.equal(misses.length, 0, misses[0]?.message);
    assert.deepEqual(replay.ledger, recorded.ledger);

    // Another data set is refused: the first miss stops the run and says what differs.
    const abort = new AbortController();
    const refusing = new ReplayedModel(answers, {
      model: "fake-llm",
      onMiss: (error) => {
        misses.push(error);
        abort.abort();
      },
    });
    await arenaRun(refusing, {
      source: await loadFixtureCandles("alt-2018-04-05"),
      calculator,
      signal: abort.signal,
    });
    assert.ok(misses.length >= 1);
    assert.match(misses[0]!.message, /message \d+ \(user\) differs: recorded '.*', got '.*'/);
  } finally {
    calculator.close();
    await Deno.remove(path);
  }
});
