/**
 * Tournaments: N entries (strategy x model) over M replay windows cut from candle data. Every
 * window runs as one lockstep arena on a fresh MemoryBus with every entry as an agent (accounts
 * are independent, so entries do not affect each other), one window after the other, so the
 * result is deterministic for deterministic models. Each entry gets its mean return over the
 * windows, a 95 % Student-t confidence interval of that mean, and its mean return net of model
 * cost (cost from the chat nodes' usage activity; 0 for `rules`).
 */

import { MemoryBus } from "../bus/memory_bus.ts";
import { AgentName } from "../contracts/common.ts";
import { builtinStrategy, type Strategy } from "../agents/strategies.ts";
import type { ProductCandles } from "../connector/replay.ts";
import type { Logger } from "../log.ts";
import { Calculator } from "../tools/calculator.ts";
import type { ModelProvider } from "../runtime/model_provider.ts";
import type { TradeConfig } from "../ledger/trade.ts";
import { type ArenaAgent, type ArenaModel, runArena } from "./arena.ts";
import { markdownTable } from "./leaderboard.ts";
import { type SampleSummary, summarize } from "./stats.ts";

/** One tournament entry: a strategy played by a model. */
export interface TournamentEntry {
  /** Built-in strategy id (momentum, brainrot, scalper) or a loaded strategy. */
  strategy: Strategy;
  /** Model label: `rules` or a model id. */
  model: string;
}

/** Parses `strategy:model` entries (comma separated), e.g. `momentum:rules,scalper:gpt-5-nano`. */
export function parseEntries(text: string): { strategy: string; model: string }[] {
  const entries = text.split(",").map((part) => part.trim()).filter((part) => part !== "");
  if (entries.length === 0) throw new Error("Entries must be strategy:model pairs, got none");
  const parsed = entries.map((entry) => {
    const at = entry.indexOf(":");
    const strategy = at < 0 ? entry : entry.slice(0, at);
    const model = at < 0 ? "rules" : entry.slice(at + 1);
    if (strategy === "" || model === "") {
      throw new Error(`Entry must be strategy:model such as momentum:rules, got ${entry}`);
    }
    return { strategy, model };
  });
  const seen = new Set<string>();
  for (const entry of parsed) {
    const key = `${entry.strategy}:${entry.model}`;
    if (seen.has(key)) throw new Error(`Entry ${key} is listed twice; list each entry once`);
    seen.add(key);
  }
  return parsed;
}

/** Builds entries from parsed pairs with the built-in strategies. */
export function builtinEntries(pairs: { strategy: string; model: string }[]): TournamentEntry[] {
  return pairs.map((pair) => ({ strategy: builtinStrategy(pair.strategy), model: pair.model }));
}

/** The agent name of an entry: `<strategy>.<model>` with unsupported characters replaced. */
export function entryAgentName(entry: TournamentEntry): string {
  const name = `${entry.strategy.name}.${entry.model}`.replace(/[^A-Za-z0-9._-]/g, "_").slice(
    0,
    64,
  );
  if (!AgentName.safeParse(name).success) {
    throw new Error(`Entry ${entry.strategy.name}:${entry.model} gives no valid agent name`);
  }
  return name;
}

/** A named candle data set (e.g. a bundled fixture set). */
export interface CandleSet {
  /** Set name shown in results. */
  name: string;
  /** Candles per product. */
  candles: ProductCandles[];
}

/** One replay window. */
export interface ReplayWindow {
  /** Data set name. */
  set: string;
  /** Index of the window within its set. */
  index: number;
  /** First tick's market time (ISO). */
  start: string;
  /** Last tick's market time (ISO). */
  end: string;
  /** Candles from the warm-up before `start` up to `end`. */
  candles: ProductCandles[];
}

/** Options for {@linkcode cutWindows}. */
export interface CutWindowsOptions {
  /** Windows wanted. */
  windows: number;
  /** Hours of market time per window. */
  windowHours: number;
  /** Warm-up hours of candles before each window (default 4, the snapshot's longest view). */
  warmupHours?: number;
}

/**
 * Cuts non-overlapping windows from each set (after its warm-up), interleaves the sets (first
 * window of each set, then the second of each, ...) and takes the first `windows`. Throws when
 * the data holds fewer windows than asked, saying how many fit.
 */
export function cutWindows(sets: CandleSet[], options: CutWindowsOptions): ReplayWindow[] {
  const { windows, windowHours } = options;
  if (!Number.isInteger(windows) || windows < 1) {
    throw new Error(`Windows must be a positive integer, got ${windows}`);
  }
  if (!(windowHours > 0) || !Number.isInteger(windowHours * 60)) {
    throw new Error(`Window hours must be a positive number of whole minutes, got ${windowHours}`);
  }
  const warmup = (options.warmupHours ?? 4) * 3600;
  const length = windowHours * 3600;
  const perSet = sets.map((set) => {
    const start = Math.max(...set.candles.map((product) => product.candles[0]!.time));
    const stop = Math.min(
      ...set.candles.map((product) => product.candles[product.candles.length - 1]!.time + 60),
    );
    const cut: ReplayWindow[] = [];
    for (let at = start + warmup, index = 0; at + length <= stop; at += length, index++) {
      cut.push({
        set: set.name,
        index,
        start: new Date(at * 1000).toISOString(),
        end: new Date((at + length) * 1000).toISOString(),
        candles: set.candles.map((product) => ({
          productId: product.productId,
          candles: product.candles.filter((candle) =>
            candle.time >= at - warmup && candle.time < at + length
          ),
        })),
      });
    }
    return cut;
  });
  const interleaved: ReplayWindow[] = [];
  for (let round = 0; interleaved.length < windows; round++) {
    const row = perSet.map((cut) => cut[round]).filter((window) => window !== undefined);
    if (row.length === 0) break;
    interleaved.push(...row);
  }
  const total = perSet.reduce((sum, cut) => sum + cut.length, 0);
  if (total < windows) {
    throw new Error(
      `The data holds ${total} windows of ${windowHours} h, asked for ${windows}: ` +
        `ask for fewer windows or shorter ones`,
    );
  }
  return interleaved.slice(0, windows);
}

/** One entry's result in one window. */
export interface WindowResult {
  /** Return in percent. */
  returnPct: number;
  /** Model cost in USD. */
  costUsd: number;
  /** Return net of model cost in percent of the starting cash. */
  netReturnPct: number;
  /** Trades executed. */
  trades: number;
}

/** One entry's tournament result. */
export interface EntryResult {
  /** `strategy:model`. */
  entry: string;
  /** Strategy name. */
  strategy: string;
  /** Model label. */
  model: string;
  /** Agent name used in the arenas. */
  agent: string;
  /** Per window, in window order. */
  windows: WindowResult[];
  /** Return statistics over the windows (percent). */
  returns: SampleSummary;
  /** Net-of-cost return statistics over the windows (percent). */
  netReturns: SampleSummary;
  /** Mean return minus buy-and-hold's mean over the same windows (percent). */
  meanExcessPct: number;
  /**
   * Paired excess over buy-and-hold per window (entry minus benchmark, percent): its mean equals
   * `meanExcessPct`, and an interval above zero says the entry beat holding, not by luck alone.
   */
  excess: SampleSummary;
  /** Windows in which the entry beat buy-and-hold. */
  beatBenchmark: number;
  /** Total model cost in USD. */
  totalCostUsd: number;
  /** Total trades. */
  totalTrades: number;
}

/** A finished tournament. */
export interface TournamentResult {
  /** Format version. */
  v: 1;
  /** Market seconds between decisions. */
  intervalSeconds: number;
  /** Hours per window. */
  windowHours: number;
  /** Starting cash per account per window. */
  startingCash: string;
  /** The windows played. */
  windows: { set: string; index: number; start: string; end: string; ticks: number }[];
  /** Buy-and-hold per window (percent), and its summary. */
  benchmark: { returns: number[]; summary: SampleSummary };
  /** Entries, best mean net return first. */
  entries: EntryResult[];
  /** How the interval is computed. */
  method: string;
}

/** Tournament progress, for progress bars. */
export interface TournamentProgress {
  /** 0-based window index running now. */
  window: number;
  /** Windows in total. */
  windows: number;
  /** Latest tick seen in the running window (0 at its start). */
  tick: number;
  /** Ticks per window (expected). */
  ticksPerWindow: number;
}

/** Options for {@linkcode runTournament}. */
export interface RunTournamentOptions {
  /** The windows to play. */
  windows: ReplayWindow[];
  /** Hours per window (for the result). */
  windowHours: number;
  /** Creates the model of a label (`rules` -> the rules model); called once per window. */
  provider: (model: string) => ModelProvider;
  /** Market seconds between decisions (default 300). */
  intervalSeconds?: number;
  /** Starting cash per account (default 100000). */
  startingCash?: string;
  /** Fees and slippage (ledger default when absent). */
  tradeConfig?: TradeConfig;
  /** Bound on the lockstep wait per tick in ms. */
  lockstepTimeoutMs?: number;
  /** Warm-up hours before each window (default 4). */
  warmupHours?: number;
  /** Where the arenas log. */
  log: Logger;
  /** Progress callback. */
  onProgress?: (progress: TournamentProgress) => void;
  /** Aborting stops after the running window's current tick. */
  signal?: AbortSignal;
}

/** The method line stored with every result. */
export const CI_METHOD =
  "95% Student-t interval of the mean over windows (mean +/- t(0.975, n-1) * sd / sqrt(n)), " +
  "windows treated as independent samples; the CI vs B&H is the same interval over the paired " +
  "per-window differences (entry minus buy-and-hold)";

/** Runs every window in turn and summarises each entry. */
export async function runTournament(
  entries: TournamentEntry[],
  options: RunTournamentOptions,
): Promise<TournamentResult> {
  if (entries.length === 0) throw new Error("A tournament needs at least one entry");
  const intervalSeconds = options.intervalSeconds ?? 300;
  const startingCash = options.startingCash ?? "100000";
  const cash = Number(startingCash);
  const agents = entries.map(entryAgentName);
  if (new Set(agents).size !== agents.length) {
    throw new Error(`Entries must give distinct agent names, got ${agents.join(", ")}`);
  }
  const models = [...new Set(entries.map((entry) => entry.model))];
  const nodeName = (model: string) => `t_${model}`.replace(/[^A-Za-z0-9._-]/g, "_");
  const ticksPerWindow = Math.floor(options.windowHours * 3600 / intervalSeconds) + 1;
  const perEntry: WindowResult[][] = entries.map(() => []);

  const benchmark: number[] = [];
  const played: TournamentResult["windows"] = [];
  // One calculator worker for every window: starting one takes about a second.
  const calculator = new Calculator();
  try {
    await calculator.warmUp();
    for (const [w, window] of options.windows.entries()) {
      if (options.signal?.aborted) break;
      options.onProgress?.({ window: w, windows: options.windows.length, tick: 0, ticksPerWindow });
      const bus = new MemoryBus();
      let firstTick: number | null = null;
      try {
        const arenaAgents: ArenaAgent[] = entries.map((entry, index) => ({
          name: agents[index]!,
          strategy: entry.strategy,
          chatNodeName: nodeName(entry.model),
        }));
        const arenaModels: ArenaModel[] = models.map((model) => ({
          name: nodeName(model),
          provider: options.provider(model),
        }));
        const result = await runArena(bus, {
          agents: arenaAgents,
          models: arenaModels,
          market: {
            kind: "replay",
            source: window.candles,
            intervalSeconds,
            lockstep: true,
            lockstepTimeoutMs: options.lockstepTimeoutMs,
            warmupSeconds: (options.warmupHours ?? 4) * 3600,
          },
          startingCash,
          tradeConfig: options.tradeConfig,
          calculator,
          log: options.log,
          signal: options.signal,
          onTick: (tick) => {
            firstTick ??= tick;
            options.onProgress?.({
              window: w,
              windows: options.windows.length,
              tick: tick - firstTick + 1,
              ticksPerWindow,
            });
          },
        });
        const rows = new Map(result.report.json.leaderboard.map((row) => [row.agent, row]));
        for (const [index, agent] of agents.entries()) {
          const row = rows.get(agent);
          const returnPct = row ? Number(row.returnPct) : 0;
          const costUsd = row?.costUsd ?? 0;
          perEntry[index]!.push({
            returnPct,
            costUsd,
            netReturnPct: returnPct - costUsd / cash * 100,
            trades: row?.trades ?? 0,
          });
        }
        benchmark.push(Number(result.report.json.benchmark?.returnPct ?? 0));
        played.push({
          set: window.set,
          index: window.index,
          start: window.start,
          end: window.end,
          ticks: result.ticks,
        });
      } finally {
        await bus.close();
      }
    }
  } finally {
    calculator.close();
  }
  const benchmarkSummary = summarize(benchmark);
  const results: EntryResult[] = entries.map((entry, index) => {
    const windows = perEntry[index]!;
    const returns = summarize(windows.map((row) => row.returnPct));
    return {
      entry: `${entry.strategy.name}:${entry.model}`,
      strategy: entry.strategy.name,
      model: entry.model,
      agent: agents[index]!,
      windows,
      returns,
      netReturns: summarize(windows.map((row) => row.netReturnPct)),
      meanExcessPct: returns.mean - benchmarkSummary.mean,
      excess: summarize(windows.map((row, w) => row.returnPct - benchmark[w]!)),
      beatBenchmark: windows.filter((row, w) => row.returnPct > benchmark[w]!).length,
      totalCostUsd: windows.reduce((sum, row) => sum + row.costUsd, 0),
      totalTrades: windows.reduce((sum, row) => sum + row.trades, 0),
    };
  });
  results.sort((a, b) => b.netReturns.mean - a.netReturns.mean || a.entry.localeCompare(b.entry));
  return {
    v: 1,
    intervalSeconds,
    windowHours: options.windowHours,
    startingCash,
    windows: played,
    benchmark: { returns: benchmark, summary: benchmarkSummary },
    entries: results,
    method: CI_METHOD,
  };
}

function pct(value: number): string {
  if (Number.isNaN(value)) return "-";
  return `${value > 0 ? "+" : ""}${value.toFixed(2)}%`;
}

function interval(summary: SampleSummary): string {
  return summary.ci95 ? `[${pct(summary.ci95.low)}, ${pct(summary.ci95.high)}]` : "n/a (n<2)";
}

/** The result as a markdown table (entries best first, buy-and-hold last) with a method note. */
export function formatTournamentMarkdown(result: TournamentResult): string {
  const rows = result.entries.map((entry, index) => [
    String(index + 1),
    entry.entry,
    pct(entry.returns.mean),
    interval(entry.returns),
    entry.returns.sd === null ? "-" : entry.returns.sd.toFixed(2),
    `$${entry.totalCostUsd.toFixed(4)}`,
    pct(entry.netReturns.mean),
    pct(entry.meanExcessPct),
    interval(entry.excess),
    `${entry.beatBenchmark}/${entry.windows.length}`,
    String(entry.totalTrades),
  ]);
  const bench = result.benchmark.summary;
  rows.push([
    "-",
    "buy-and-hold",
    pct(bench.mean),
    interval(bench),
    bench.sd === null ? "-" : bench.sd.toFixed(2),
    "-",
    pct(bench.mean),
    "-",
    "-",
    "-",
    "-",
  ]);
  const header = [
    "#",
    "entry",
    "mean return",
    "95% CI",
    "sd",
    "model cost",
    "mean net return",
    "vs buy-and-hold",
    "95% CI vs B&H",
    "beat B&H",
    "trades",
  ];
  const markdown = markdownTable(header, rows);
  const sets = [...new Set(result.windows.map((window) => window.set))].join(", ");
  return [
    `Tournament: ${result.entries.length} entries x ${result.windows.length} windows of ` +
    `${result.windowHours} h (${sets}), a decision every ${result.intervalSeconds / 60} min ` +
    `of market time, lockstep, $${result.startingCash} per account per window.`,
    "",
    markdown,
    "",
    `Returns in percent of starting cash per window; net return subtracts the model cost. ` +
    `CI: ${result.method}.`,
  ].join("\n");
}
