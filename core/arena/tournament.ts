/**
 * Tournaments: N entries (strategy x model) over M replay windows cut from candle data. Every
 * window runs as one lockstep arena on a fresh MemoryBus with every entry as an agent (accounts
 * are independent, so entries do not affect each other), one window after the other, so the
 * result is deterministic for deterministic models. Stochastic entries can play each window
 * several times (`runs`, the window's return is their mean); deterministic ones (`rules`) play
 * once. After the entries, a second arena per window plays seeded random traders matched to each
 * entry's trades and traded notional in that window (core/agents/random_policy.ts), through the
 * same tools and ledger. Each entry gets its mean return per window with a block bootstrap
 * interval, its paired excess over buy-and-hold and over every other entry with Holm-adjusted
 * p-values (core/arena/stats.ts), its percentile among its random traders, fees and the edge per
 * decision it needs to pay them, its return net of model cost (0 for `rules`), and the
 * calibration of the confidence it stated with its trades, pooled over every window and run
 * (core/metrics/calibration.ts).
 */

import type { DecisionProtocol } from "../agents/decision.ts";
import type { PromptFormat } from "../market/prompt.ts";
import { MemoryBus } from "../bus/memory_bus.ts";
import { AgentName } from "../contracts/common.ts";
import { builtinStrategy, type Strategy } from "../agents/strategies.ts";
import type { Logger } from "../log.ts";
import { Calculator } from "../tools/calculator.ts";
import type { ModelProvider } from "../runtime/model_provider.ts";
import type { PriceTable } from "../runtime/chat_node.ts";
import type { TradeConfig } from "../ledger/trade.ts";
import { DEFAULT_TRADE_CONFIG, deskTermsOf } from "../ledger/trade.ts";
import type { DeskTerms } from "../contracts/desk.ts";
import type { RandomTarget } from "../agents/random_policy.ts";
import { RandomModel } from "../models/random_model.ts";
import { seedFrom } from "../prng.ts";
import { type MarketMask, replayMask } from "../connector/replay.ts";
import { maskedIncrements } from "../market/mask.ts";
import { breakEvenEdgePct, netReturnPct } from "../metrics/metrics.ts";
import { type Calibration, poolCalibrations } from "../metrics/calibration.ts";
import { type ArenaAgent, type ArenaModel, type ArenaResult, runArena } from "./arena.ts";
import {
  analyzeTournament,
  bootstrapMeanInterval,
  type Comparison,
  type Interval,
  percentileRank,
  type SampleSummary,
  summarize,
  verdictLine,
} from "./stats.ts";
import type { ReplayWindow } from "./windows.ts";

export {
  type CandleSet,
  cutWindows,
  type CutWindowsOptions,
  type ReplayWindow,
} from "./windows.ts";

/** One tournament entry: a strategy played by a model. */
export interface TournamentEntry {
  /** Built-in strategy id (default, momentum, brainrot, scalper) or a loaded strategy. */
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

/** One entry's result in one window (means over the runs of that window). */
export interface WindowResult {
  /** Return in percent (mean over the runs). */
  returnPct: number;
  /** Return of each run in percent (one value for deterministic entries). */
  runReturnsPct: number[];
  /** Model cost in USD. */
  costUsd: number;
  /** Return net of model cost in percent of the starting cash. */
  netReturnPct: number;
  /** Trades executed. */
  trades: number;
  /** Fees paid in USD. */
  feesUsd: number;
  /** Traded notional (buys plus sells) in USD. */
  tradedNotionalUsd: number;
  /** Decisions made (model turns answered). */
  decisions: number;
  /** Largest fall from the running peak of equity (starting cash included), percent. */
  maxDrawdownPct: number;
  /** Returns of the matched random traders in this window, percent (empty without them). */
  randomReturnsPct: number[];
  /** Return in the plain (unmasked) replay of this window, percent (`mask.unmasked` only). */
  unmaskedReturnPct?: number;
}

/**
 * The memorisation gap of an entry: unmasked minus masked return per window (percent, windows
 * in market-time order within each set). A gap above zero says the model does better when it
 * can recognise the real dates, tickers and prices.
 */
export interface MemorizationGap {
  /** Paired differences per window, unmasked minus masked. */
  gapsPct: number[];
  /** Mean gap. */
  meanPct: number;
  /** Block bootstrap 95 % interval of the mean gap (null for one window). */
  ci95: Interval | null;
}

/** How an entry compares with its matched random traders. */
export interface RandomBaselineResult {
  /** Random traders per window. */
  perWindow: number;
  /** Mean return of the random traders over every window, percent. */
  meanReturnPct: number;
  /** The entry's percentile among its random traders, averaged over the windows (50 = luck). */
  percentile: number;
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
  /** True for deterministic models (`rules`): one run per window whatever `--runs` says. */
  deterministic: boolean;
  /** Runs per window. */
  runs: number;
  /** Per window, in play order. */
  windows: WindowResult[];
  /** Mean return per window, percent. */
  meanReturnPct: number;
  /** Block bootstrap 95 % interval of the mean return (null for one window). */
  ci95: Interval | null;
  /** Return statistics over the windows with the Student-t interval (percent). */
  returns: SampleSummary;
  /** Net-of-cost return statistics over the windows (percent). */
  netReturns: SampleSummary;
  /** Paired comparison with buy-and-hold: mean excess, its interval, raw and Holm p-values. */
  vsBenchmark: Comparison;
  /** Windows in which the entry beat buy-and-hold. */
  beatBenchmark: number;
  /** Total model cost in USD. */
  totalCostUsd: number;
  /** Total trades. */
  totalTrades: number;
  /** Mean fees per window in percent of the starting cash. */
  feesPct: number;
  /** Mean traded notional per window over the starting cash. */
  turnover: number;
  /** Mean decisions per window. */
  decisionsPerWindow: number;
  /**
   * Edge per decision needed to pay the fees: mean over windows of fees / decisions, percent of
   * the starting cash (null without decisions).
   */
  breakEvenEdgePct: number | null;
  /** Mean max drawdown per window (from the running peak, starting cash included), percent. */
  meanMaxDrawdownPct: number;
  /** Matched random traders, when the tournament ran them. */
  random: RandomBaselineResult | null;
  /** Unmasked minus masked return per window, when the tournament played both. */
  memorization?: MemorizationGap;
  /** Stated confidence scored against outcomes, pooled over every window and run. */
  calibration: Calibration;
}

/** A played window. */
export interface PlayedWindow {
  /** Data set name. */
  set: string;
  /** Index of the window within its set. */
  index: number;
  /** First tick's market time (ISO). */
  start: string;
  /** Last tick's market time (ISO). */
  end: string;
  /** Market regime of the window, when labelled. */
  regime: string | null;
  /** Snapshots played. */
  ticks: number;
  /** How the window was masked (real names, factors, start), when it was. */
  mask?: MarketMask;
}

/** A finished tournament. */
export interface TournamentResult {
  /** Format version. */
  v: 2;
  /** The verdict in one line. */
  verdict: string;
  /** The windows played, in play order. */
  windows: PlayedWindow[];
  /** Entries, best mean net return first. */
  entries: EntryResult[];
  /** Buy-and-hold per window (percent, play order), its mean and bootstrap interval. */
  benchmark: { returns: number[]; summary: SampleSummary; ci95: Interval | null };
  /** Every entry-vs-entry comparison (a minus b), Holm-adjusted with the benchmark ones. */
  pairs: Comparison[];
  /** Market seconds between decisions. */
  intervalSeconds: number;
  /** Hours per window. */
  windowHours: number;
  /** Starting cash per account per window. */
  startingCash: string;
  /** Taker fee in basis points. */
  takerFeeBps: number;
  /** The desk every account traded on: fee, slippage, shorts and leverage. */
  desk: DeskTerms;
  /** Runs per window asked for (deterministic entries play one). */
  runs: number;
  /** Random traders per entry and window (0: none). */
  randomBaselines: number;
  /** Seed of the statistics, the random traders and the runs. */
  seed: number;
  /** Block length of the bootstrap and the sign-flip test. */
  blockLength: number;
  /** How the intervals and p-values are computed. */
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

/** What a provider factory is told about the run it serves. */
export interface ProviderContext {
  /** 0-based window index in play order. */
  window: number;
  /** 0-based run of that window. */
  run: number;
  /** Sampling seed for this run (the tournament seed plus the run), for models that take one. */
  seed: number;
  /** True when the run replays masked data. */
  masked?: boolean;
  /** Quantity increments of the masked products, for offline policies (same returns masked). */
  increments?: Readonly<Record<string, string>>;
}

/** Options for {@linkcode runTournament}. */
export interface RunTournamentOptions {
  /** The windows to play. */
  windows: ReplayWindow[];
  /** Hours per window (for the result). */
  windowHours: number;
  /** Creates the model of a label (`rules` -> the rules model); called per window and run. */
  provider: (model: string, context: ProviderContext) => ModelProvider;
  /** Whether a model label is deterministic (default: `rules` only). */
  deterministic?: (model: string) => boolean;
  /** Runs per window for stochastic entries (default 1). */
  runs?: number;
  /** Matched random traders per entry and window (default 0). */
  randomBaselines?: number;
  /** Seed of the statistics, random traders and runs (default 1). */
  seed?: number;
  /** Market seconds between decisions (default 300). */
  intervalSeconds?: number;
  /** Starting cash per account (default 100000). */
  startingCash?: string;
  /** Fees and slippage (ledger default when absent). */
  tradeConfig?: TradeConfig;
  /** Bound on the lockstep wait per tick in ms. */
  lockstepTimeoutMs?: number;
  /** Concurrent model calls per model (chat node default when absent). */
  maxWorkers?: number;
  /** Prices per model id over the built-in table (`--price-input`, `--price-output`). */
  costPerMillionTokens?: PriceTable;
  /** The agents' decision protocol (default the tool loop). */
  protocol?: DecisionProtocol;
  /** Layout of the market block in prompts (default compact). */
  promptFormat?: PromptFormat;
  /** Bound on one model reply or tool round in ms (router default when absent). */
  replyTimeoutMs?: number;
  /** Warm-up hours before each window (default 4). */
  warmupHours?: number;
  /** Where the arenas log. */
  log: Logger;
  /** Progress callback. */
  onProgress?: (progress: TournamentProgress) => void;
  /** Aborting stops after the running window's current tick. */
  signal?: AbortSignal;
  /**
   * Mask every window (renamed products, scaled prices, no dates), each with its own mask drawn
   * from `seed`; with `unmasked` every window also plays plain, for the memorisation gap.
   */
  mask?: { seed: number; unmasked?: boolean };
}

/** The method line stored with every result. */
export const CI_METHOD =
  "mean return per window; 95% intervals from a circular block bootstrap (2000 resamples, " +
  "block length round(n^(1/3)), windows in market-time order within each set); p-values from a " +
  "sign-flip permutation test of the paired per-window differences (blocks of the same length), " +
  "Holm-adjusted over every comparison reported (each entry vs buy-and-hold and each pair)";

/** One agent's figures in one arena, as its report scored them. */
export interface AgentFigures {
  /** Total return, percent. */
  returnPct: number;
  /** Model cost in USD. */
  costUsd: number;
  /** Trades executed. */
  trades: number;
  /** Fees paid in USD. */
  feesUsd: number;
  /** Traded notional in USD. */
  tradedNotionalUsd: number;
  /** Decisions made. */
  decisions: number;
  /** Largest fall from the running peak, percent. */
  maxDrawdownPct: number;
  /** Stated confidence scored against outcomes. */
  calibration: Calibration;
}

/** One arena's outcome: figures per agent, buy-and-hold's return and the ticks played. */
export interface ArenaOutcome {
  /** Figures per agent name. */
  agents: Map<string, AgentFigures>;
  /** Buy-and-hold's return over the arena, percent. */
  benchmarkPct: number;
  /** Ticks played. */
  ticks: number;
}

const RANDOM_NODE = "t_random";

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** One arena's figures, read from its report: the tournament scores nothing its own way. */
export function figuresOf(result: Pick<ArenaResult, "report" | "ticks">): ArenaOutcome {
  const notional = new Map<string, number>();
  for (const trade of result.report.json.trades) {
    notional.set(trade.agent, (notional.get(trade.agent) ?? 0) + Number(trade.notional));
  }
  const decisions = new Map(result.report.view.agents.map((view) => [view.name, view.decisions]));
  const agents = new Map<string, AgentFigures>();
  for (const row of result.report.json.leaderboard) {
    agents.set(row.agent, {
      returnPct: Number(row.returnPct),
      costUsd: row.costUsd,
      trades: row.trades,
      feesUsd: Number(row.feesPaid),
      tradedNotionalUsd: notional.get(row.agent) ?? 0,
      decisions: decisions.get(row.agent) ?? 0,
      maxDrawdownPct: Number(row.maxDrawdownPct),
      calibration: row.calibration,
    });
  }
  return {
    agents,
    benchmarkPct: Number(result.report.json.benchmark?.returnPct ?? 0),
    ticks: result.ticks,
  };
}

/** The memorisation gap over windows that played both masked and plain (none otherwise). */
function memorizationOf(
  windows: readonly WindowResult[],
  seed: number,
): { memorization?: MemorizationGap } {
  if (windows.length === 0 || windows.some((row) => row.unmaskedReturnPct === undefined)) {
    return {};
  }
  const gapsPct = windows.map((row) => row.unmaskedReturnPct! - row.returnPct);
  return {
    memorization: {
      gapsPct,
      meanPct: mean(gapsPct),
      ci95: bootstrapMeanInterval(gapsPct, { seed }),
    },
  };
}

/** Runs every window in turn (entries, their extra runs, their random traders) and summarises. */
export async function runTournament(
  entries: TournamentEntry[],
  options: RunTournamentOptions,
): Promise<TournamentResult> {
  if (entries.length === 0) throw new Error("A tournament needs at least one entry");
  const runs = options.runs ?? 1;
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`Runs must be a positive integer, got ${runs}`);
  }
  const randomBaselines = options.randomBaselines ?? 0;
  if (!Number.isInteger(randomBaselines) || randomBaselines < 0) {
    throw new Error(`Random baselines must be a whole number of 0 or more, got ${randomBaselines}`);
  }
  const seed = options.seed ?? 1;
  const intervalSeconds = options.intervalSeconds ?? 300;
  const startingCash = options.startingCash ?? "100000";
  const takerFeeBps = options.tradeConfig?.takerFeeBps ?? DEFAULT_TRADE_CONFIG.takerFeeBps;
  const cash = Number(startingCash);
  const agents = entries.map(entryAgentName);
  if (new Set(agents).size !== agents.length) {
    throw new Error(`Entries must give distinct agent names, got ${agents.join(", ")}`);
  }
  const isDeterministic = options.deterministic ?? ((model: string) => model === "rules");
  const deterministic = entries.map((entry) => isDeterministic(entry.model));
  const nodeName = (model: string) => `t_${model}`.replace(/[^A-Za-z0-9._-]/g, "_");
  const ticksPerWindow = Math.floor(options.windowHours * 3600 / intervalSeconds) + 1;
  const perEntry: WindowResult[][] = entries.map(() => []);
  const calibrations: Calibration[][] = entries.map(() => []);
  const benchmark: number[] = [];
  const played: PlayedWindow[] = [];

  // One calculator worker for every window: starting one takes about a second.
  const calculator = new Calculator();
  const play = async (
    w: number,
    window: ReplayWindow,
    arenaAgents: ArenaAgent[],
    arenaModels: ArenaModel[],
    mask?: MarketMask,
  ): Promise<ArenaOutcome> => {
    const bus = new MemoryBus();
    let firstTick: number | null = null;
    try {
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
          mask,
        },
        startingCash,
        tradeConfig: options.tradeConfig,
        calculator,
        protocol: options.protocol,
        promptFormat: options.promptFormat,
        replyTimeoutMs: options.replyTimeoutMs,
        // Decision and order ids from the window: the same on every run (recorded replays).
        runId: `w${w}`,
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
      return figuresOf(result);
    } finally {
      await bus.close();
    }
  };
  try {
    await calculator.warmUp();
    for (const [w, window] of options.windows.entries()) {
      if (options.signal?.aborted) break;
      options.onProgress?.({ window: w, windows: options.windows.length, tick: 0, ticksPerWindow });
      const outcomes: Map<string, AgentFigures>[] = [];
      let first: ArenaOutcome | undefined;
      const mask = options.mask
        ? replayMask(window.candles, {
          seed: seedFrom(`${options.mask.seed}:${window.set}:${window.index}`),
          warmupSeconds: (options.warmupHours ?? 4) * 3600,
        })
        : undefined;
      const arenaAgentsOf = (playing: { entry: TournamentEntry; index: number }[]) =>
        playing.map(({ entry, index }) => ({
          name: agents[index]!,
          strategy: entry.strategy,
          chatNodeName: nodeName(entry.model),
        }));
      for (let run = 0; run < runs; run++) {
        const playing = entries.map((entry, index) => ({ entry, index }))
          .filter(({ index }) => run === 0 || !deterministic[index]);
        if (playing.length === 0 || options.signal?.aborted) break;
        const models = [...new Set(playing.map(({ entry }) => entry.model))];
        const context: ProviderContext = {
          window: w,
          run,
          seed: seed + run,
          masked: mask !== undefined,
          increments: mask ? maskedIncrements(mask) : undefined,
        };
        const outcome = await play(
          w,
          window,
          arenaAgentsOf(playing),
          models.map((model) => ({
            name: nodeName(model),
            provider: options.provider(model, context),
            maxWorkers: options.maxWorkers,
            costPerMillionTokens: options.costPerMillionTokens,
          })),
          mask,
        );
        first ??= outcome;
        outcomes.push(outcome.agents);
      }
      if (!first) break;
      let plain: ArenaOutcome | undefined;
      if (mask && options.mask?.unmasked && !options.signal?.aborted) {
        const context: ProviderContext = { window: w, run: 0, seed, masked: false };
        plain = await play(
          w,
          window,
          arenaAgentsOf(entries.map((entry, index) => ({ entry, index }))),
          [...new Set(entries.map((entry) => entry.model))].map((model) => ({
            name: nodeName(model),
            provider: options.provider(model, context),
            maxWorkers: options.maxWorkers,
            costPerMillionTokens: options.costPerMillionTokens,
          })),
        );
      }
      const windowRows: Omit<WindowResult, "randomReturnsPct">[] = agents.map((agent) => {
        const rows = outcomes.map((outcome) => outcome.get(agent)).filter((row) =>
          row !== undefined
        );
        const returns = rows.map((row) => row.returnPct);
        const costUsd = mean(rows.map((row) => row.costUsd));
        const returnPct = mean(returns);
        return {
          returnPct,
          runReturnsPct: returns,
          costUsd,
          netReturnPct: netReturnPct(returnPct, { costUsd, startingCash: cash }),
          trades: mean(rows.map((row) => row.trades)),
          feesUsd: mean(rows.map((row) => row.feesUsd)),
          tradedNotionalUsd: mean(rows.map((row) => row.tradedNotionalUsd)),
          decisions: mean(rows.map((row) => row.decisions)),
          maxDrawdownPct: mean(rows.map((row) => row.maxDrawdownPct)),
          ...(plain ? { unmaskedReturnPct: plain.agents.get(agent)?.returnPct ?? 0 } : {}),
        };
      });
      const randomReturns = await playRandom(w, window, windowRows, mask);
      windowRows.forEach((row, index) => {
        perEntry[index]!.push({ ...row, randomReturnsPct: randomReturns[index]! });
      });
      agents.forEach((agent, index) => {
        for (const outcome of outcomes) {
          const figures = outcome.get(agent);
          if (figures) calibrations[index]!.push(figures.calibration);
        }
      });
      benchmark.push(first.benchmarkPct);
      played.push({
        set: window.set,
        index: window.index,
        start: window.start,
        end: window.end,
        regime: "regime" in window ? String(window.regime) : null,
        ticks: first.ticks,
        ...(mask ? { mask } : {}),
      });
    }
  } finally {
    calculator.close();
  }

  /** Plays the matched random traders of every entry; returns their returns per entry. */
  async function playRandom(
    w: number,
    window: ReplayWindow,
    rows: Omit<WindowResult, "randomReturnsPct">[],
    mask: MarketMask | undefined,
  ): Promise<number[][]> {
    const returns: number[][] = entries.map(() => []);
    if (randomBaselines === 0) return returns;
    const targets = new Map<string, RandomTarget>();
    const owner = new Map<string, number>();
    rows.forEach((row, index) => {
      const trades = Math.round(row.trades);
      for (let i = 0; i < randomBaselines; i++) {
        // A trader matched to no trades holds its cash: its return is exactly 0, no arena needed.
        if (trades === 0) {
          returns[index]!.push(0);
          continue;
        }
        const name = `random.${index}.${i}`;
        owner.set(name, index);
        targets.set(name, {
          trades,
          notional: row.tradedNotionalUsd.toFixed(2),
          ticks: ticksPerWindow,
          seed: seedFrom(`${seed}:${window.set}:${window.index}:${agents[index]}:${i}`),
        });
      }
    });
    if (targets.size === 0 || options.signal?.aborted) return returns;
    const strategy = entries[0]!.strategy;
    const outcome = await play(
      w,
      window,
      [...targets.keys()].map((name) => ({ name, strategy, chatNodeName: RANDOM_NODE })),
      [{
        name: RANDOM_NODE,
        provider: new RandomModel({ targets, takerFeeBps, runId: `${seed}w${w}` }),
      }],
      mask,
    );
    for (const [name, index] of owner) {
      returns[index]!.push(outcome.agents.get(name)?.returnPct ?? 0);
    }
    return returns;
  }

  // Statistics over windows in market-time order within each set (blocks keep neighbours).
  const order = played.map((window, index) => ({ window, index }))
    .sort((a, b) =>
      a.window.set.localeCompare(b.window.set) || a.window.start.localeCompare(b.window.start)
    )
    .map(({ index }) => index);
  const stats = analyzeTournament({
    entries: entries.map((_, index) => ({
      name: `${entries[index]!.strategy.name}:${entries[index]!.model}`,
      returns: order.map((w) => perEntry[index]![w]!.returnPct),
    })),
    benchmark: order.map((w) => benchmark[w]!),
  }, { seed });

  const results: EntryResult[] = entries.map((entry, index) => {
    const windows = perEntry[index]!;
    const entryStats = stats.entries[index]!;
    const perDecision = windows
      .map((row) => breakEvenEdgePct(row.feesUsd, { decisions: row.decisions, startingCash: cash }))
      .filter((value) => value !== null);
    const randomAll = windows.flatMap((row) => row.randomReturnsPct);
    const percentiles = windows
      .map((row) => percentileRank(row.returnPct, row.randomReturnsPct))
      .filter((value) => value !== null);
    return {
      entry: entryStats.name,
      strategy: entry.strategy.name,
      model: entry.model,
      agent: agents[index]!,
      deterministic: deterministic[index]!,
      runs: deterministic[index]! ? 1 : runs,
      windows,
      meanReturnPct: entryStats.mean,
      ci95: entryStats.ci95,
      returns: summarize(windows.map((row) => row.returnPct)),
      netReturns: summarize(windows.map((row) => row.netReturnPct)),
      vsBenchmark: entryStats.vsBenchmark,
      beatBenchmark: windows.filter((row, w) => row.returnPct > benchmark[w]!).length,
      totalCostUsd: windows.reduce((sum, row) => sum + row.costUsd, 0),
      totalTrades: windows.reduce((sum, row) => sum + row.trades, 0),
      feesPct: mean(windows.map((row) => row.feesUsd / cash * 100)),
      turnover: mean(windows.map((row) => row.tradedNotionalUsd / cash)),
      decisionsPerWindow: mean(windows.map((row) => row.decisions)),
      breakEvenEdgePct: perDecision.length === 0 ? null : mean(perDecision),
      meanMaxDrawdownPct: mean(windows.map((row) => row.maxDrawdownPct)),
      random: randomBaselines === 0 || percentiles.length === 0 ? null : {
        perWindow: randomBaselines,
        meanReturnPct: mean(randomAll),
        percentile: mean(percentiles),
      },
      ...memorizationOf(order.map((w) => windows[w]!), seed),
      calibration: poolCalibrations(calibrations[index]!),
    };
  });
  results.sort((a, b) => b.netReturns.mean - a.netReturns.mean || a.entry.localeCompare(b.entry));
  return {
    v: 2,
    verdict: verdictLine(stats),
    windows: played,
    entries: results,
    benchmark: { returns: benchmark, summary: summarize(benchmark), ci95: stats.benchmark.ci95 },
    pairs: stats.pairs,
    intervalSeconds,
    windowHours: options.windowHours,
    startingCash,
    takerFeeBps,
    desk: deskTermsOf(options.tradeConfig ?? DEFAULT_TRADE_CONFIG),
    runs,
    randomBaselines,
    seed,
    blockLength: stats.blockLength,
    method: CI_METHOD,
  };
}
