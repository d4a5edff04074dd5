/**
 * The model path end to end in one process: replay in lockstep -> router -> chat node with the
 * real npm:openai client -> a fake OpenAI-compatible server on 127.0.0.1 -> tools -> ledger. Covers
 * tool calls written as text, the correction path, the JSON decision protocol with and without
 * `response_format` support, the reply timeout, the token limit and the rules model's protocols.
 */

import assert from "node:assert/strict";
import type { DecisionProtocol } from "../../core/agents/decision.ts";
import { STRATEGIES } from "../../core/agents/strategies.ts";
import { type ArenaResult, runArena } from "../../core/arena/arena.ts";
import { formatLeaderboard } from "../../core/arena/leaderboard.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { loadFixtureCandles } from "../../core/connector/replay.ts";
import { createLogger } from "../../core/log.ts";
import { OpenAIProvider } from "../../core/models/openai_provider.ts";
import { RulesModel } from "../../core/models/rules_model.ts";
import type { ModelProvider, RequestControls } from "../../core/runtime/model_provider.ts";
import { Calculator } from "../../core/tools/calculator.ts";
import { type FakeReply, type RecordedRequest, startFakeOpenAI } from "../_fake_openai.ts";
import { ActivityCollector } from "./_support.ts";

const quiet = createLogger("test", { level: "error", sink: () => {} });
const AGENT = "trader";

interface Run {
  result: ArenaResult;
  requests: RecordedRequest[];
  activity: ActivityCollector;
}

/** Runs one agent for `ticks` lockstep ticks of the bundled replay against a scripted server. */
async function runWith(options: {
  protocol?: DecisionProtocol;
  strategy?: keyof typeof STRATEGIES;
  responder?: (request: RecordedRequest, index: number) => FakeReply;
  provider?: ModelProvider;
  ticks?: number;
  controls?: RequestControls;
  replyTimeoutMs?: number;
  calculator: Calculator;
}): Promise<Run> {
  const fake = startFakeOpenAI({
    responder: (request) => options.responder!(request, fake.requests.length - 1),
  });
  const bus = new MemoryBus();
  try {
    const activity = await ActivityCollector.open(bus);
    const provider = options.provider ?? new OpenAIProvider({
      model: "local-model",
      apiKey: "not-needed",
      baseURL: fake.baseURL,
      controls: options.controls,
      timeoutMs: 5_000,
    });
    const result = await runArena(bus, {
      agents: [{ name: AGENT, strategy: STRATEGIES[options.strategy ?? "momentum"] }],
      models: [{ provider }],
      market: {
        kind: "replay",
        source: await loadFixtureCandles("main"),
        intervalSeconds: 300,
        lockstep: true,
        lockstepTimeoutMs: 20_000,
        maxTicks: options.ticks ?? 2,
      },
      protocol: options.protocol,
      promptFormat: "plain",
      replyTimeoutMs: options.replyTimeoutMs ?? 10_000,
      log: quiet,
      calculator: options.calculator,
    });
    await activity.close();
    return { result, requests: [...fake.requests], activity };
  } finally {
    await bus.close();
    await fake.close();
  }
}

/** The last user message of a request (the prompt, or a correction). */
function lastUser(request: RecordedRequest): string {
  return String(request.body.messages.findLast((message) => message.role === "user")?.content);
}

/** Whether the request is the first call of a decision (nothing after the prompt). */
function isFirstCall(request: RecordedRequest): boolean {
  return request.body.messages.at(-1)?.role === "user" &&
    lastUser(request).startsWith("Your portfolio");
}

const BUY = '{"product_id": "BTC-USD", "action": "BUY", "quantity": 0.01}';

function tradesOf(run: Run): number {
  return run.result.report.json.leaderboard.find((row) => row.agent === AGENT)?.trades ?? 0;
}

Deno.test("decision protocols", async (t) => {
  const calculator = new Calculator();
  await calculator.warmUp();
  try {
    const styles: [string, string][] = [
      [
        "a Hermes <tool_call> tag",
        `<tool_call>{"name": "execute_trade", "arguments": ${BUY}}</tool_call>`,
      ],
      ["a bare JSON object", `{"name": "execute_trade", "arguments": ${BUY}}`],
      [
        "a fenced json block",
        "I buy.\n```json\n" + `{"name": "execute_trade", "arguments": ${BUY}}\n` + "```",
      ],
      ["a list of calls", `[{"name": "execute_trade", "arguments": ${BUY}}]`],
    ];
    for (const [style, text] of styles) {
      await t.step(`tool calls written as ${style} are run and trade on the ledger`, async () => {
        const run = await runWith({
          calculator,
          responder: (request) =>
            isFirstCall(request)
              ? { kind: "message", content: text }
              : { kind: "message", content: "Reasoning: bought a little BTC." },
        });
        assert.equal(tradesOf(run), 2, "one buy per tick reached the ledger");
        const calls = run.activity.of(AGENT, "tool_call");
        assert.equal(calls.length, 2);
        for (const call of calls) {
          assert.equal(call.source, "text");
          assert.equal(call.tool, "execute_trade");
          assert.match(call.toolCallId, /^call_text_/);
        }
        const results = run.activity.of(AGENT, "tool_result");
        assert.ok(results.every((result) => result.ok), JSON.stringify(results));
        assert.deepEqual(run.activity.of(AGENT, "decision").map((event) => event.outcome), [
          "answered",
          "answered",
        ]);
        // The first call already shows the portfolio: no get_portfolio round trip is needed.
        const first = run.requests[0]!;
        assert.match(lastUser(first), /^Your portfolio: cash 100000\.00 USD/);
        assert.match(lastUser(first), /Market at .* \(tick 1\)/);
        assert.deepEqual(first.body.tools?.map((tool) => tool.function.name).sort(), [
          "calculator",
          "execute_trade",
          "get_portfolio",
        ]);
      });
    }

    await t.step("text that is not a call is an answer and never a trade", async () => {
      const run = await runWith({
        calculator,
        responder: () => ({
          kind: "message",
          content: 'I would buy {"product_id": "BTC-USD", "quantity": 1} but the trend is flat.',
        }),
      });
      assert.equal(tradesOf(run), 0);
      assert.equal(run.requests.length, 2, "one model call per tick");
      assert.deepEqual(run.activity.of(AGENT, "decision").map((event) => event.outcome), [
        "answered",
        "answered",
      ]);
    });

    await t.step(
      "an order stated in words gets one reminder; the call it prompts trades",
      async () => {
        const prose = "Reasoning: the trend is up, so I decided to buy BTC-USD at the ask.";
        const run = await runWith({
          calculator,
          ticks: 1,
          responder: (request) => {
            if (isFirstCall(request)) return { kind: "message", content: prose };
            const afterReminder = request.body.messages.at(-1)?.role === "user" &&
              /^You wrote that you decided to buy BTC-USD/.test(lastUser(request));
            if (afterReminder) {
              return { kind: "message", content: `{"name": "execute_trade", "arguments": ${BUY}}` };
            }
            return { kind: "message", content: "Reasoning: bought." };
          },
        });
        assert.equal(tradesOf(run), 1, "the call made after the reminder reached the ledger");
        assert.equal(run.requests.length, 3, "prompt, reminder, final answer");
        assert.doesNotMatch(lastUser(run.requests[1]!), /\d/, "the reminder suggests no quantity");
        const errors = run.activity.of(AGENT, "error").map((event) => event.message);
        assert.deepEqual(errors, ["Order stated in text, not placed: buy BTC-USD"]);
        assert.deepEqual(run.activity.of(AGENT, "decision").map((event) => event.outcome), [
          "answered",
        ]);
      },
    );

    await t.step("a second answer in words after the reminder trades nothing", async () => {
      const run = await runWith({
        calculator,
        ticks: 1,
        responder: () => ({ kind: "message", content: "I decided to buy BTC-USD now." }),
      });
      assert.equal(tradesOf(run), 0, "text never becomes a trade");
      assert.equal(run.requests.length, 2, "one reminder per decision, then the answer stands");
      assert.deepEqual(run.activity.of(AGENT, "decision").map((event) => event.outcome), [
        "answered",
      ]);
    });

    await t.step("a broken call gets one correction, then the decision is invalid", async () => {
      const broken =
        '<tool_call>{"name": "execute_trade", "arguments": {"product_id": </tool_call>';
      const run = await runWith({
        calculator,
        responder: () => ({ kind: "message", content: broken }),
      });
      assert.equal(tradesOf(run), 0);
      assert.equal(run.requests.length, 4, "two calls per tick: the reply and the corrected one");
      assert.match(lastUser(run.requests[1]!), /^Your last reply could not be used: a tool call/);
      assert.deepEqual(run.activity.of(AGENT, "decision").map((event) => event.outcome), [
        "invalid",
        "invalid",
      ]);
      const errors = run.activity.of(AGENT, "error").map((event) => event.message);
      assert.ok(
        errors.some((message) => /^Unusable reply: a tool call that does not parse/.test(message)),
      );
      // The next tick's memory says "invalid reply" and never echoes the broken text.
      const memory = run.requests[2]!.body.messages.filter((message) => message.role === "system")
        .map((message) => String(message.content)).join("\n");
      assert.match(memory, /\(invalid\): invalid reply/);
      assert.ok(!memory.includes("<tool_call>"), "the broken call was remembered verbatim");
    });

    await t.step(
      "a call repeated in one decision is not run again; the model is told",
      async () => {
        const portfolioCall = '```json\n{"name": "get_portfolio", "arguments": {}}\n```';
        const run = await runWith({
          calculator,
          ticks: 1,
          responder: (request) => {
            const tools = request.body.messages.filter((message) => message.role === "tool");
            return tools.length < 2
              ? { kind: "message", content: portfolioCall }
              : { kind: "message", content: "Reasoning: holding." };
          },
        });
        assert.equal(run.requests.length, 3);
        const results = run.requests[2]!.body.messages.filter((message) => message.role === "tool")
          .map((message) => String(message.content));
        assert.match(results[0]!, /"cash":"100000"/, "the first call ran");
        assert.match(results[1]!, /^You already made this call/, "the repeat did not run");
        assert.equal(run.activity.of(AGENT, "tool_call").length, 1);
        assert.ok(
          run.activity.of(AGENT, "error").some((event) =>
            /^Repeated tool call: get_portfolio/.test(event.message)
          ),
        );
        assert.deepEqual(run.activity.of(AGENT, "decision").map((event) => event.outcome), [
          "answered",
        ]);
      },
    );

    await t.step(
      "a call repeated again after the note ends the decision without a final answer",
      async () => {
        const portfolioCall = '```json\n{"name": "get_portfolio", "arguments": {}}\n```';
        const run = await runWith({
          calculator,
          ticks: 1,
          responder: () => ({ kind: "message", content: portfolioCall }),
        });
        // The call, its repeat (told), the repeat again (ended): three of the eight model calls.
        assert.equal(run.requests.length, 3);
        assert.equal(run.activity.of(AGENT, "tool_call").length, 1);
        assert.deepEqual(run.activity.of(AGENT, "decision").map((event) => event.outcome), [
          "step_limit",
        ]);
        assert.ok(
          run.activity.of(AGENT, "error").some((event) =>
            event.message === "No final answer: a call repeated after the note, ended at model " +
                "call 3 of 8"
          ),
        );
      },
    );

    await t.step("a reply cut at --max-tokens is corrected, then invalid", async () => {
      const run = await runWith({
        calculator,
        controls: { maxTokens: 16, temperature: 0, seed: 7, toolChoice: "auto" },
        ticks: 1,
        responder: () => ({
          kind: "message",
          content: "Let me think about",
          finishReason: "length",
        }),
      });
      assert.equal(run.requests.length, 2);
      const body = run.requests[0]!.body;
      assert.equal(body.max_tokens, 16);
      assert.equal(body.temperature, 0);
      assert.equal(body.seed, 7);
      assert.equal(body.tool_choice, "auto");
      assert.deepEqual(run.activity.of(AGENT, "decision").map((event) => event.outcome), [
        "invalid",
      ]);
      assert.ok(
        run.activity.of(AGENT, "error").some((event) =>
          /cut at the token limit/.test(event.message)
        ),
      );
    });

    const decision = JSON.stringify({
      reasoning: "BTC is trending up on every timeframe",
      decisions: [
        { product_id: "BTC-USD", action: "buy", quantity: 0.02, reason: "trend" },
        { product_id: "ETH-USD", action: "hold", quantity: 0, reason: "flat" },
      ],
    });

    await t.step("json protocol: one call per decision with a strict json_schema", async () => {
      const run = await runWith({
        calculator,
        protocol: "json",
        responder: () => ({ kind: "message", content: decision }),
      });
      assert.equal(run.requests.length, 2, "one model call per decision");
      const body = run.requests[0]!.body as RecordedRequest["body"] & {
        response_format: { type: string; json_schema: { name: string; strict: boolean } };
      };
      assert.equal(body.response_format.type, "json_schema");
      assert.equal(body.response_format.json_schema.name, "trading_decision");
      assert.equal(body.response_format.json_schema.strict, true);
      // Each product's quantity is bounded by what the cash buys (or what is held).
      const schema = JSON.stringify(body.response_format.json_schema);
      const maximum = Number(/"BTC-USD"\][\s\S]*?"maximum":([\d.]+)/.exec(schema)?.[1]);
      const offered = /Most you can buy[^\n]*BTC-USD ([\d.]+) units/.exec(
        lastUser(run.requests[0]!),
      );
      assert.equal(maximum, Number(offered?.[1]), "the schema bounds what the prompt offers");
      assert.equal(body.tools, undefined, "no tools are offered in the json protocol");
      assert.match(String(body.messages[0]!.content), /Answer with ONE JSON object/);
      assert.equal(tradesOf(run), 2);
      const calls = run.activity.of(AGENT, "tool_call");
      assert.deepEqual(calls.map((call) => [call.source, call.tool]), [
        ["json", "execute_trade"],
        ["json", "execute_trade"],
      ]);
      assert.deepEqual(JSON.parse(calls[0]!.arguments), {
        product_id: "BTC-USD",
        action: "buy",
        quantity: "0.02",
      });
      const reasoning = run.activity.of(AGENT, "reasoning").map((event) => event.text);
      assert.deepEqual(reasoning, [
        "BTC is trending up on every timeframe",
        "BTC is trending up on every timeframe",
      ]);
    });

    await t.step(
      "json protocol: an entry's exit plan and confidence reach execute_trade",
      async () => {
        const planned = JSON.stringify({
          reasoning: "BTC breaks out",
          decisions: [{
            product_id: "BTC-USD",
            action: "buy",
            quantity: 0.02,
            stop_loss: 4000,
            take_profit: "6000",
            confidence: 0.6,
            reason: "breakout",
          }],
        });
        const run = await runWith({
          calculator,
          protocol: "json",
          responder: () => ({ kind: "message", content: planned }),
        });
        const calls = run.activity.of(AGENT, "tool_call");
        assert.deepEqual(JSON.parse(calls[0]!.arguments), {
          product_id: "BTC-USD",
          action: "buy",
          quantity: "0.02",
          stop_loss: "4000",
          take_profit: "6000",
          confidence: 0.6,
        });
        assert.equal(tradesOf(run), 2, "the ledger accepted the plan");
      },
    );

    await t.step(
      "json protocol: a server that rejects response_format gets plain JSON text",
      async () => {
        const run = await runWith({
          calculator,
          protocol: "json",
          responder: (request) =>
            request.body.response_format !== undefined
              ? { kind: "error", status: 400, message: "response_format is not supported" }
              : { kind: "message", content: "Decision:\n```json\n" + decision + "\n```" },
        });
        assert.equal(run.requests.length, 3, "one rejected request, then one call per decision");
        assert.ok(run.requests[0]!.body.response_format !== undefined);
        assert.equal(run.requests[1]!.body.response_format, undefined);
        assert.equal(run.requests[2]!.body.response_format, undefined, "not asked again");
        assert.equal(tradesOf(run), 2);
      },
    );

    await t.step("json protocol: an invalid decision is corrected once, then invalid", async () => {
      const run = await runWith({
        calculator,
        protocol: "json",
        ticks: 1,
        responder: () => ({
          kind: "message",
          content: '{"reasoning": "x", "decisions": [{"product_id": "DOGE-USD", "action": "buy"}]}',
        }),
      });
      assert.equal(run.requests.length, 2);
      assert.match(
        lastUser(run.requests[1]!),
        /^Your reply was not a valid decision: decisions\.0/,
      );
      assert.deepEqual(run.activity.of(AGENT, "decision").map((event) => event.outcome), [
        "invalid",
      ]);
      assert.equal(tradesOf(run), 0, "nothing malformed reaches the ledger");
    });

    await t.step("the reply timeout ends a decision whose model is too slow", async () => {
      const started = performance.now();
      const run = await runWith({
        calculator,
        ticks: 1,
        replyTimeoutMs: 300,
        responder: () => ({ kind: "message", content: "late", delayMs: 2_000 }),
      });
      assert.deepEqual(run.activity.of(AGENT, "decision").map((event) => event.outcome), [
        "timeout",
      ]);
      assert.ok(
        run.activity.of(AGENT, "error").some((event) => /within 300 ms/.test(event.message)),
      );
      assert.ok(performance.now() - started < 10_000);
    });

    await t.step("the rules model plays both protocols with the same trades", async () => {
      const runProtocol = async (protocol: DecisionProtocol) => {
        const run = await runWith({
          calculator,
          protocol,
          provider: new RulesModel({ runId: "same" }),
          strategy: "brainrot",
          ticks: 24,
        });
        return {
          table: formatLeaderboard(run.result.report.json),
          steps: run.activity.of(AGENT, "decision").map((event) => event.steps),
          trades: tradesOf(run),
        };
      };
      const tools = await runProtocol("tools");
      const json = await runProtocol("json");
      assert.ok(tools.trades > 0, "the rules model traded in two hours of real data");
      assert.equal(json.table, tools.table);
      assert.ok(json.steps.every((steps) => steps === 1), "one model call per JSON decision");
      assert.ok(
        tools.steps.every((steps) => steps <= 2),
        "portfolio in the prompt: at most 2 calls",
      );
    });
  } finally {
    calculator.close();
  }
});
