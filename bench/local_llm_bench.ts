/**
 * Local LLM bench: the three default agents against a real small model behind an
 * OpenAI-compatible server on this machine (llama.cpp's `llama-server`, Ollama, LM Studio, vLLM),
 * in lockstep on the bundled replay, once per decision protocol. Reports valid decisions, tool
 * calls by source (native, written as text, JSON decision), trades on the ledger, prompt and
 * completion tokens per decision and seconds per decision; and the market block's size in tokens
 * per layout with o200k and with the server's own tokenizer (`/tokenize`, llama.cpp only).
 *
 * Not a CI test: a 1.5B model on 2 cores needs about a minute per decision. It says plainly when
 * no server answers. Run `bash ../shared/local_llm/serve.sh .cache/local_llm`, then
 * `deno task bench local-llm` (env: LOCAL_LLM_URL, default http://127.0.0.1:48081/v1;
 * LOCAL_LLM_MODEL; LOCAL_LLM_TICKS, default 5; LOCAL_LLM_PROTOCOLS, default json,tools;
 * LOCAL_LLM_REPLAY, a bundled market set, default dydx-perp-2026-01-01: one product, after the
 * models' training data;
 * LOCAL_LLM_FORMAT, compact or plain, default plain; LOCAL_LLM_MAX_TOKENS, default 300;
 * LOCAL_LLM_ALLOW_SHORT=1 and LOCAL_LLM_MAX_LEVERAGE, default 1, for a margin desk).
 */

import { countTokens } from "gpt-tokenizer";
import { parseProtocol } from "../core/agents/decision.ts";
import { defaultAgents } from "../core/agents/strategies.ts";
import { runArena } from "../core/arena/arena.ts";
import { MemoryBus } from "../core/bus/memory_bus.ts";
import { createLogger } from "../core/log.ts";
import { CsvMarket } from "../core/market/csv_market.ts";
import { loadMarketSet } from "../core/market/market_sets.ts";
import {
  parsePromptFormat,
  renderSnapshotOriginal,
  renderSnapshotPlain,
  renderSnapshotPrompt,
} from "../core/market/prompt.ts";
import { createModel } from "../core/models/create_model.ts";
import { DEFAULT_TRADE_CONFIG, type TradeConfig } from "../core/ledger/trade.ts";
import type { ActivityEvent } from "../core/contracts/activity.ts";
import { ActivityCollector } from "../tests/runtime/_support.ts";

const baseURL = Deno.env.get("LOCAL_LLM_URL") ?? "http://127.0.0.1:48081/v1";
const ticks = Number(Deno.env.get("LOCAL_LLM_TICKS") ?? 5);
const protocols = (Deno.env.get("LOCAL_LLM_PROTOCOLS") ?? "json,tools").split(",").map((p) =>
  parseProtocol(p.trim())
);
const replaySet = Deno.env.get("LOCAL_LLM_REPLAY") ?? "dydx-perp-2026-01-01";
const promptFormat = parsePromptFormat(Deno.env.get("LOCAL_LLM_FORMAT") ?? "plain");
const maxTokens = Number(Deno.env.get("LOCAL_LLM_MAX_TOKENS") ?? 300);
const tradeConfig: TradeConfig = {
  ...DEFAULT_TRADE_CONFIG,
  allowShort: Deno.env.get("LOCAL_LLM_ALLOW_SHORT") === "1",
  maxLeverage: Number(Deno.env.get("LOCAL_LLM_MAX_LEVERAGE") ?? 1),
};
const log = createLogger("bench.local_llm", { level: "error" });

/** The served model id, or undefined when no server answers. */
async function servedModel(): Promise<string | undefined> {
  try {
    const response = await fetch(`${baseURL}/models`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return undefined;
    const body = await response.json() as { data?: { id: string }[] };
    return Deno.env.get("LOCAL_LLM_MODEL") ?? body.data?.[0]?.id;
  } catch {
    return undefined;
  }
}

/** Tokens of a text by the server's tokenizer (llama.cpp `/tokenize`), when it has one. */
async function serverTokens(text: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${baseURL.replace(/\/v1\/?$/, "")}/tokenize`, {
      method: "POST",
      body: JSON.stringify({ content: text }),
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) return undefined;
    return ((await response.json()) as { tokens: unknown[] }).tokens.length;
  } catch {
    return undefined;
  }
}

/** How the model used the action space: exit plan fields in its orders, shorts, leverage, exits. */
function exitPlanUse(
  events: readonly ActivityEvent[],
  trades: readonly { action: string; leverage?: number; cause?: string }[],
): string {
  const orders = { all: 0, stop: 0, target: 0, confidence: 0, leveraged: 0 };
  for (const event of events) {
    if (event.kind !== "tool_call" || event.tool !== "execute_trade") continue;
    orders.all++;
    let args: Record<string, unknown> = {};
    try {
      args = JSON.parse(event.arguments) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (args.stop_loss != null) orders.stop++;
    if (args.take_profit != null) orders.target++;
    if (args.confidence != null) orders.confidence++;
    if (typeof args.leverage === "number" && args.leverage > 1) orders.leveraged++;
  }
  const shorts = trades.filter((trade) => trade.action === "short").length;
  const leveraged = trades.filter((trade) => (trade.leverage ?? 1) > 1).length;
  const exits = trades.filter((trade) => trade.cause !== undefined).length;
  return `${orders.all} orders: stop_loss in ${orders.stop}, take_profit in ${orders.target}, ` +
    `confidence in ${orders.confidence}, leverage above 1 in ${orders.leveraged}; fills: ` +
    `${shorts} short opens, ${leveraged} leveraged, ${exits} engine exits`;
}

const model = await servedModel();
if (!model) {
  console.log(
    `## Local LLM\n\nNot measured: no OpenAI-compatible server answers at ${baseURL}. Start one ` +
      "with `bash ../shared/local_llm/serve.sh .cache/local_llm` (or set LOCAL_LLM_URL).",
  );
  Deno.exit(1);
}
const candles = (await loadMarketSet(replaySet)).candles;
console.log(`## Local LLM: ${model} at ${baseURL}\n`);

// Market block size per layout, averaged over a few ticks of the replay.
const market = new CsvMarket(candles);
const sample = [1, 60, 120, 180, 240].filter((tick) => tick <= market.tickCount);
console.log(
  "| market block (mean of " + sample.length + " ticks) | o200k tokens | " +
    model + " tokens |",
);
console.log("| --- | ---: | ---: |");
for (
  const [name, render] of [
    ["original layout", renderSnapshotOriginal],
    ["compact", renderSnapshotPrompt],
    ["plain", renderSnapshotPlain],
  ] as const
) {
  let o200k = 0;
  let local = 0;
  let counted = true;
  for (const tick of sample) {
    const text = render(market.tick(tick).snapshot);
    o200k += countTokens(text);
    const tokens = await serverTokens(text);
    if (tokens === undefined) counted = false;
    else local += tokens;
  }
  const mean = (sum: number) => Math.round(sum / sample.length).toLocaleString("en-US");
  console.log(`| ${name} | ${mean(o200k)} | ${counted ? mean(local) : "n/a"} |`);
}
console.log("");

console.log(
  `| protocol | decisions | valid | calls native / text / json | trades | prompt tok/decision | ` +
    `completion tok/decision | s/decision |`,
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const protocol of protocols) {
  const bus = new MemoryBus();
  const activity = await ActivityCollector.open(bus);
  const provider = createModel({
    model,
    apiKey: "local",
    baseURL,
    timeoutMs: 3_600_000,
    controls: { temperature: 0, seed: 42, maxTokens },
    log,
  });
  const started = performance.now();
  const result = await runArena(bus, {
    agents: defaultAgents(),
    models: [{ provider, maxWorkers: 1 }],
    market: {
      kind: "replay",
      source: candles,
      intervalSeconds: 300,
      lockstep: true,
      lockstepTimeoutMs: 10_800_000,
      maxTicks: ticks,
    },
    protocol,
    promptFormat,
    tradeConfig,
    replyTimeoutMs: 5_400_000,
    log,
  });
  const seconds = (performance.now() - started) / 1000;
  await activity.close();
  await bus.close();
  const decisions = activity.events.filter((event) => event.kind === "decision");
  const valid = decisions.filter((event) => event.outcome === "answered").length;
  const calls = { native: 0, text: 0, json: 0 };
  for (const event of activity.events) {
    if (event.kind === "tool_call") calls[event.source ?? "native"]++;
  }
  let promptTokens = 0;
  let completionTokens = 0;
  for (const event of activity.events) {
    if (event.kind !== "usage") continue;
    promptTokens += event.promptTokens;
    completionTokens += event.completionTokens;
  }
  const trades = result.report.json.leaderboard.reduce((sum, row) => sum + row.trades, 0);
  const outcomes = new Map<string, number>();
  for (const event of decisions) {
    outcomes.set(event.outcome, (outcomes.get(event.outcome) ?? 0) + 1);
  }
  const per = (value: number) => decisions.length ? Math.round(value / decisions.length) : 0;
  console.log(
    `| ${protocol} | ${decisions.length} | ${
      decisions.length ? (100 * valid / decisions.length).toFixed(0) : 0
    } % | ${calls.native} / ${calls.text} / ${calls.json} | ${trades} | ${per(promptTokens)} | ${
      per(completionTokens)
    } | ${(seconds / Math.max(1, decisions.length)).toFixed(1)} |`,
  );
  console.error(`${protocol}: ${exitPlanUse(activity.events, result.report.json.trades)}`);
  const errors = activity.events.filter((event) => event.kind === "error").map((event) =>
    event.kind === "error" ? `${event.agent}@${event.tick}: ${event.message.slice(0, 160)}` : ""
  );
  console.error(
    `${protocol}: outcomes ${JSON.stringify(Object.fromEntries(outcomes))}; ` +
      `${errors.length} errors${errors.length ? `, e.g. ${errors.slice(0, 3).join(" | ")}` : ""}`,
  );
  for (const event of activity.events) {
    if (event.kind === "reasoning") {
      console.error(`  ${event.agent}@${event.tick} reasoning: ${event.text.slice(0, 200)}`);
    } else if (event.kind === "tool_call") {
      console.error(
        `  ${event.agent}@${event.tick} ${event.source} ${event.tool}(${event.arguments})`,
      );
    } else if (event.kind === "tool_result") {
      console.error(
        `  ${event.agent}@${event.tick} -> ${event.ok ? "ok" : "error"}: ${
          event.content.slice(0, 120)
        }`,
      );
    }
  }
}
console.log(
  `\nSettings: ${ticks} lockstep ticks of the ${replaySet} replay set, 5 min apart, three ` +
    `default agents, ${promptFormat} prompt, temperature 0, seed 42, max tokens ${maxTokens}, ` +
    `one model call at a time; shorts ${tradeConfig.allowShort ? "on" : "off"}, ` +
    `leverage up to ${tradeConfig.maxLeverage}.`,
);
