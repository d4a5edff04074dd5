/**
 * Tournament: N entries (strategy:model) over replay windows cut from the bundled market sets
 * (30 windows of 4 h from every set by default, spread over sets and regimes), each window a
 * lockstep arena on a fresh in-memory bus, then matched random traders per entry. Prints the
 * verdict on the first line, then the tables (mean return per window with a block bootstrap
 * interval, paired excess over buy-and-hold with Holm-adjusted p-values, percentile among random
 * traders, fees and break-even edge, entry vs entry) and writes them with the full JSON to `--out`.
 * `--json` prints only the JSON document. Usage errors exit with code 2 and one line.
 *
 * Masking: with any LLM entry every window is masked by default (renamed products, scaled prices,
 * no dates; `--no-mask` plays the real data); `--unmasked` plays each window both ways and
 * reports each LLM entry's memorisation gap. `--record-model FILE` writes every model answer,
 * `--replay-model FILE` answers from such a file for $0 (a request not in it stops the run,
 * unless `--allow-misses`).
 *
 * Models: `rules` (offline) or any model id of an OpenAI-compatible server (`--base-url`,
 * `--api-key` or $OPENAI_API_KEY). `deno task tournament` allows the network to api.openai.com and
 * localhost; add another model host to `--allow-net` to use it.
 */

import { Command } from "@commander-js/extra-typings";
import {
  builtinEntries,
  parseEntries,
  type ProviderContext,
  runTournament,
  type TournamentEntry,
  type TournamentProgress,
} from "../core/arena/tournament.ts";
import { formatTournamentMarkdown, tournamentJson } from "../core/arena/tournament_report.ts";
import {
  cutWindows,
  DEFAULT_INTERVAL_SECONDS,
  DEFAULT_TOURNAMENT_SETS,
  DEFAULT_WINDOW_HOURS,
  DEFAULT_WINDOWS,
  type ReplayWindow,
} from "../core/arena/windows.ts";
import { loadMarketSets } from "../core/market/market_sets.ts";
import {
  addAgentProtocolFlags,
  addExitPlansFlag,
  addTradeDeskFlags,
  agentWaits,
  ensureWritableDir,
  fatalError,
  logLevelOption,
  nonNegativeIntFlag,
  parseFlags,
  positiveIntFlag,
  positiveNumberFlag,
  tradeConfigOf,
  usageError,
} from "../core/cli.ts";
import { createLogger } from "../core/log.ts";
import { formatProgressBar } from "../core/progress.ts";
import { addModelFlags, modelSecrets, openFlagModels } from "../core/models/model_flags.ts";
import { onShutdownSignals } from "../core/shutdown.ts";
import type { ModelProvider } from "../core/runtime/model_provider.ts";

const DEFAULT_ENTRIES = "momentum:rules,brainrot:rules,scalper:rules";
/**
 * Random traders per entry and window: 3 keeps the default tournament (3 entries x 30 windows)
 * within a minute on two cores; each random trader costs about as much as an entry.
 */
const DEFAULT_RANDOM_BASELINES = 3;
/** Seed of the statistics, the random traders and the runs' sampling seeds (seed + run). */
const SEED = 1;

const program = addAgentProtocolFlags(addModelFlags(addExitPlansFlag(addTradeDeskFlags(
  new Command()
    .name("tournament")
    .description(
      "Entries (strategy:model) over replay windows in lockstep, with a verdict against buy-and-hold",
    )
    .option("--entries <list>", "comma-separated strategy:model pairs", DEFAULT_ENTRIES)
    .option("--sets <list>", "comma-separated market sets", DEFAULT_TOURNAMENT_SETS.join(","))
    .option("--windows <n>", "replay windows (at least 2)", positiveIntFlag, DEFAULT_WINDOWS)
    .option(
      "--window-hours <hours>",
      "market hours per window",
      positiveNumberFlag,
      DEFAULT_WINDOW_HOURS,
    )
    .option(
      "--min-interval <seconds>",
      "market seconds between decisions",
      positiveIntFlag,
      DEFAULT_INTERVAL_SECONDS,
    )
    .option("--runs <k>", "runs per window for stochastic models (rules: 1)", positiveIntFlag, 1)
    .option(
      "--random-baselines <n>",
      "matched random traders per entry and window (0: none)",
      nonNegativeIntFlag,
      DEFAULT_RANDOM_BASELINES,
    )
    .option("--mask", "mask every window (default when any entry's model is not rules)")
    .option("--no-mask", "play the real data even with LLM entries")
    .option("--unmasked", "play every window masked and plain: the LLMs' memorisation gap")
    .option("--out <dir>", "where tournament.md and tournament.json go", "artifacts/tournament")
    .option("--json", "print only the JSON result on standard output")
    .option("--no-progress", "no progress bar")
    .addOption(logLevelOption()),
))));

const options = parseFlags(program);
const log = createLogger("tournament", {
  level: options.logLevel,
  secrets: modelSecrets(options),
});

let entries: TournamentEntry[];
let windows: ReplayWindow[];
try {
  entries = builtinEntries(parseEntries(options.entries));
  const names = options.sets.split(",").map((name) => name.trim()).filter((name) => name !== "");
  windows = cutWindows(await loadMarketSets(names), {
    windows: options.windows,
    windowHours: options.windowHours,
    intervalSeconds: options.minInterval,
  });
} catch (error) {
  usage((error as Error).message);
}

function usage(message: string): never {
  usageError("tournament", message);
}
const llmEntries = entries.some((entry) => entry.model !== "rules");
const masked = options.mask ?? (llmEntries || options.unmasked === true);
if (options.unmasked && options.mask === false) usage("--unmasked needs masking; drop --no-mask");
const models = await openFlagModels(options, { log, onMiss: () => abort.abort() })
  .catch((error: Error) => usage(error.message));
if (llmEntries && !models.recording.replaying && !models.settings.apiKey) {
  usage("entries with a model other than rules need --api-key or OPENAI_API_KEY");
}
// The results are written at the end of the run: a folder that cannot be written fails now.
try {
  await ensureWritableDir("--out", options.out);
} catch (error) {
  usage((error as Error).message);
}
function provider(model: string, context: ProviderContext): ModelProvider {
  // Masked increments keep the rules model's returns identical masked and unmasked; a fixed
  // run id per window keeps its ledger ids the same on every run.
  return models.create(model, {
    seed: context.seed,
    runId: `w${context.window}`,
    takerFeeBps: options.takerFeeBps,
    increments: context.increments,
  });
}

const bar = progressBar(options.progress);
const abort = new AbortController();
// Ctrl-C or SIGTERM stops the run; the partial results are still written.
onShutdownSignals(() => abort.abort());
const startedAt = performance.now();
const result = await runTournament(entries, {
  windows,
  windowHours: options.windowHours,
  provider,
  runs: options.runs,
  randomBaselines: options.randomBaselines,
  seed: options.seed ?? SEED,
  intervalSeconds: options.minInterval,
  maxWorkers: options.maxWorkers,
  costPerMillionTokens: models.prices(entries.map((entry) => entry.model)),
  protocol: options.protocol,
  promptFormat: options.promptFormat,
  ...agentWaits(options),
  startingCash: options.startingCash,
  tradeConfig: tradeConfigOf(options),
  log,
  signal: abort.signal,
  onProgress: bar.update,
  mask: masked ? { seed: options.seed ?? SEED, unmasked: options.unmasked === true } : undefined,
});
bar.done();
const missed = await models.close();
if (missed) fatalError("tournament", missed);

const markdown = formatTournamentMarkdown(result);
// An interrupted tournament is not a result: it never overwrites the last complete one.
const interrupted = abort.signal.aborted;
const out = options.out.replace(/\/+$/, "") + (interrupted ? "/partial" : "");
await Deno.mkdir(out, { recursive: true });
await Deno.writeTextFile(`${out}/tournament.md`, markdown + "\n");
const json = tournamentJson(result);
await Deno.writeTextFile(`${out}/tournament.json`, json + "\n");
const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
if (options.json) {
  console.log(json);
} else {
  console.log(markdown);
  console.log(`\nWritten: ${out}/tournament.md and ${out}/tournament.json`);
  if (interrupted) {
    console.log(`Interrupted: partial results only; ${options.out} keeps the last complete run.`);
  }
  console.log(`Finished in ${seconds} s wall-clock time.`);
}
Deno.exit(interrupted ? 130 : 0);

/**
 * A progress bar with the time left on standard error: redrawn in place on a terminal (at most
 * 10 times a second), one line per window otherwise (logs, CI).
 */
function progressBar(enabled: boolean): {
  update: (progress: TournamentProgress) => void;
  done: () => void;
} {
  const encoder = new TextEncoder();
  const tty = Deno.stderr.isTerminal();
  const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  const startedAt = performance.now();
  let lastWindow = -1;
  let lastDraw = 0;
  return {
    update: (progress) => {
      if (!enabled) return;
      const tick = Math.min(progress.tick, progress.ticksPerWindow);
      const state = {
        done: progress.window * progress.ticksPerWindow + tick,
        total: progress.windows * progress.ticksPerWindow,
        elapsedMs: performance.now() - startedAt,
      };
      const window = `window ${progress.window + 1}/${progress.windows}`;
      if (!tty) {
        if (progress.window === lastWindow) return;
        lastWindow = progress.window;
        write(`${formatProgressBar(state, { width: 20, label: window })}\n`);
        return;
      }
      const now = performance.now();
      if (now - lastDraw < 100 && progress.tick !== 0) return;
      lastDraw = now;
      const label = `${window} tick ${tick}/${progress.ticksPerWindow}`;
      write(`\r${formatProgressBar(state, { label })}\x1b[K`);
    },
    done: () => {
      if (enabled && tty) write("\r\x1b[K");
    },
  };
}
