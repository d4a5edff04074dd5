/**
 * Tournament: N entries (strategy x model) over M replay windows cut from the bundled candles
 * (both fixture sets), each window a lockstep arena on a fresh in-memory bus, one after the other.
 * Prints a markdown table (mean return, 95 % t-interval, model cost, net return, buy-and-hold) and
 * writes it with the full JSON to `--out`.
 *
 * Models: `rules` (offline) or any model id of an OpenAI-compatible server (`--base-url`,
 * `--api-key` or $OPENAI_API_KEY). `deno task tournament` allows the network to api.openai.com and
 * localhost; add another model host to `--allow-net` to use it.
 */

import { Command } from "@commander-js/extra-typings";
import { loadFixtureCandles } from "../core/connector/replay.ts";
import {
  builtinEntries,
  type CandleSet,
  cutWindows,
  formatTournamentMarkdown,
  parseEntries,
  runTournament,
  type TournamentEntry,
  type TournamentProgress,
} from "../core/arena/tournament.ts";
import { feeBpsFlag, positiveIntFlag, positiveNumberFlag, usdAmountFlag } from "../core/cli.ts";
import { createLogger, parseLogLevel } from "../core/log.ts";
import { RulesModel } from "../core/models/rules_model.ts";
import type { ModelProvider } from "../core/runtime/model_provider.ts";

const DEFAULT_ENTRIES = "momentum:rules,brainrot:rules,scalper:rules";

const program = new Command()
  .name("tournament")
  .description(
    "Entries (strategy:model) over replay windows in lockstep, with confidence intervals",
  )
  .option("--entries <list>", "comma-separated strategy:model pairs", DEFAULT_ENTRIES)
  .option("--windows <n>", "replay windows", positiveIntFlag, 8)
  .option("--window-hours <hours>", "market hours per window", positiveNumberFlag, 6)
  .option("--min-interval <seconds>", "market seconds between decisions", positiveIntFlag, 300)
  .option("--starting-cash <usd>", "starting cash per account per window", usdAmountFlag, "100000")
  .option("--taker-fee-bps <bps>", "taker fee in basis points", feeBpsFlag, 60)
  .option("--base-url <url>", "OpenAI-compatible server for non-rules models (default OpenAI)")
  .option("--api-key <key>", "API key for non-rules models (default $OPENAI_API_KEY)")
  .option("--out <dir>", "where tournament.md and tournament.json go", "artifacts/tournament")
  .option("--no-progress", "no progress bar")
  .option("--log-level <level>", "debug, info, warn or error", parseLogLevel, "error" as const);

const options = program.parse().opts();
const log = createLogger("tournament", {
  level: options.logLevel,
  secrets: options.apiKey ? [options.apiKey] : [],
});

let entries: TournamentEntry[];
let windows;
try {
  entries = builtinEntries(parseEntries(options.entries));
  const sets: CandleSet[] = [
    { name: "2017-09-03", candles: await loadFixtureCandles("main") },
    { name: "2018-04-05", candles: await loadFixtureCandles("alt-2018-04-05") },
  ];
  windows = cutWindows(sets, { windows: options.windows, windowHours: options.windowHours });
} catch (error) {
  console.error(`tournament: ${(error as Error).message}`);
  Deno.exit(2);
}

let apiKey: string | undefined;
const needsKey = entries.some((entry) => entry.model !== "rules");
if (needsKey) {
  apiKey = options.apiKey ?? Deno.env.get("OPENAI_API_KEY");
  if (!apiKey) {
    console.error(
      "tournament: entries with a model other than rules need --api-key or OPENAI_API_KEY",
    );
    Deno.exit(2);
  }
}
const { OpenAIProvider } = needsKey
  ? await import("../core/models/openai_provider.ts")
  : { OpenAIProvider: undefined };

function provider(model: string): ModelProvider {
  if (model === "rules" || !OpenAIProvider) return new RulesModel();
  return new OpenAIProvider({
    model,
    apiKey: apiKey!,
    baseURL: options.baseUrl,
    log: log.child("model"),
  });
}

const bar = progressBar(options.progress);
const abort = new AbortController();
Deno.addSignalListener("SIGINT", () => abort.abort());
const startedAt = performance.now();
const result = await runTournament(entries, {
  windows,
  windowHours: options.windowHours,
  provider,
  intervalSeconds: options.minInterval,
  startingCash: options.startingCash,
  tradeConfig: { takerFeeBps: options.takerFeeBps, slippageBps: 0 },
  log,
  signal: abort.signal,
  onProgress: bar.update,
});
bar.done();

const markdown = formatTournamentMarkdown(result);
await Deno.mkdir(options.out, { recursive: true });
const out = options.out.replace(/\/+$/, "");
await Deno.writeTextFile(`${out}/tournament.md`, markdown + "\n");
await Deno.writeTextFile(`${out}/tournament.json`, JSON.stringify(result, null, 2) + "\n");
console.log(markdown);
console.log(`\nWritten: ${out}/tournament.md and ${out}/tournament.json`);
console.log(
  `Finished in ${((performance.now() - startedAt) / 1000).toFixed(1)} s wall-clock time.`,
);
Deno.exit(abort.signal.aborted ? 130 : 0);

/** A progress bar on standard error: redrawn in place on a terminal, one line per window else. */
function progressBar(enabled: boolean): {
  update: (progress: TournamentProgress) => void;
  done: () => void;
} {
  const encoder = new TextEncoder();
  const tty = Deno.stderr.isTerminal();
  const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  let lastWindow = -1;
  let lastDraw = 0;
  return {
    update: (progress) => {
      if (!enabled) return;
      if (!tty) {
        if (progress.window !== lastWindow) {
          lastWindow = progress.window;
          write(`window ${progress.window + 1}/${progress.windows} ...\n`);
        }
        return;
      }
      const now = performance.now();
      if (now - lastDraw < 100 && progress.tick !== 0) return;
      lastDraw = now;
      const total = progress.windows * progress.ticksPerWindow;
      const doneTicks = progress.window * progress.ticksPerWindow +
        Math.min(progress.tick, progress.ticksPerWindow);
      const width = 30;
      const filled = Math.round(width * doneTicks / total);
      write(
        `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] window ${
          progress.window + 1
        }/${progress.windows} ` +
          `tick ${
            Math.min(progress.tick, progress.ticksPerWindow)
          }/${progress.ticksPerWindow}\x1b[K`,
      );
    },
    done: () => {
      if (enabled && tty) write("\r\x1b[K");
    },
  };
}
