/**
 * `deno task prompt --replay DIR [--tick N] [--mask] [--strategy S] [--protocol P]`: prints the
 * exact messages (and tools, or response format) of an agent's first model call at a replay tick,
 * as a fresh agent sees it there (starting portfolio, no memory), taken from the real pipeline.
 */

import { Command, Option } from "@commander-js/extra-typings";
import { builtinStrategy, STRATEGY_IDS } from "../core/agents/strategies.ts";
import { captureFirstCall, formatModelRequest } from "../core/arena/first_call.ts";
import {
  addAgentProtocolFlags,
  nonNegativeIntFlag,
  positiveIntFlag,
  positiveNumberFlag,
} from "../core/cli.ts";
import { loadReplaySource, replayMask } from "../core/connector/replay.ts";
import { createLogger } from "../core/log.ts";

const options = addAgentProtocolFlags(
  new Command()
    .name("prompt")
    .description("Print the exact messages of an agent's first model call at a replay tick")
    .requiredOption("--replay <paths...>", "candle CSV files or folders, or a recording")
    .option("--tick <n>", "the tick (1 is the first snapshot)", positiveIntFlag, 1)
    .option("--min-interval <seconds>", "market seconds between snapshots", positiveNumberFlag, 60)
    .addOption(
      new Option("--strategy <id>", "built-in strategy").choices(STRATEGY_IDS).default(
        "momentum" as const,
      ),
    )
    .option("--mask", "mask the replay: renamed products, scaled prices, no dates")
    .option("--mask-seed <n>", "seed of the mask", nonNegativeIntFlag, 1)
    .option("--json", "print the request as JSON"),
).parse().opts();

const log = createLogger("prompt", { level: "error" });
try {
  const source = await loadReplaySource(options.replay);
  const request = await captureFirstCall({
    source,
    tick: options.tick,
    strategy: builtinStrategy(options.strategy),
    protocol: options.protocol,
    promptFormat: options.promptFormat,
    intervalSeconds: options.minInterval,
    mask: options.mask ? replayMask(source, { seed: options.maskSeed }) : undefined,
    log,
  });
  const { snapshot: _snapshot, portfolio: _portfolio, rulesPolicy: _rules, ...shown } = request;
  console.log(options.json ? JSON.stringify(shown, null, 2) : formatModelRequest(request));
} catch (error) {
  console.error(`prompt: ${(error as Error).message}`);
  Deno.exit(1);
}
