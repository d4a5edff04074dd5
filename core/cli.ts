/** Command-line flags shared by every service that connects to the broker. */

import {
  Command,
  InvalidArgumentError,
  Option,
  type OptionValues,
} from "@commander-js/extra-typings";
import { DECISION_PROTOCOLS, type DecisionProtocol } from "./agents/decision.ts";
import { type LogLevel, parseLogLevel } from "./log.ts";
import { PROMPT_FORMATS, type PromptFormat } from "./market/prompt.ts";
import { type RequestControls, TOOL_CHOICES, type ToolChoice } from "./runtime/model_provider.ts";

/** A command line with the shared `--bootstrap-servers` and `--log-level` flags. */
// deno-lint-ignore ban-types
export type BrokerCommand = Command<[], { bootstrapServers: string; logLevel: LogLevel }, {}>;

/** Options for {@linkcode brokerCommand}. */
export interface BrokerCommandOptions {
  /** What the service does, shown by `--help`. */
  description: string;
  /** Default of `--log-level` (default `info`). */
  logLevel?: LogLevel;
}

/** Starts a service's command line with the flags every service shares. */
export function brokerCommand(name: string, options: BrokerCommandOptions): BrokerCommand {
  return new Command()
    .name(name)
    .description(options.description)
    .option(
      "--bootstrap-servers <servers>",
      "Kafka bootstrap servers",
      Deno.env.get("KAFKA_BOOTSTRAP_SERVERS") ?? "localhost:9092",
    )
    .addOption(
      new Option("--log-level <level>", "debug, info, warn or error")
        .default(options.logLevel ?? "info")
        .argParser(parseLogLevel),
    );
}

/** Parses a flag that must be a positive number. */
export function positiveNumberFlag(value: string): number {
  const number = Number(value);
  if (!(number > 0) || !Number.isFinite(number)) {
    throw new InvalidArgumentError(`Expected a positive number, got ${value}`);
  }
  return number;
}

/** Parses a flag that must be a whole number of 1 or more. */
export function positiveIntFlag(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new InvalidArgumentError(`Expected a positive whole number, got ${value}`);
  }
  return number;
}

/** Parses a flag that must be a whole number of 0 or more. */
export function nonNegativeIntFlag(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw new InvalidArgumentError(`Expected a whole number of 0 or more, got ${value}`);
  }
  return number;
}

/** Parses a TCP port flag (0 picks a free port). */
export function portFlag(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`Port must be an integer from 0 to 65535, got ${value}`);
  }
  return port;
}

/** Parses a fee flag in whole basis points from 0 to 10000. */
export function feeBpsFlag(value: string): number {
  const bps = Number(value);
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) {
    throw new InvalidArgumentError(
      `Basis points must be a whole number from 0 to 10000, got ${value}`,
    );
  }
  return bps;
}

/** Parses a USD amount flag as an exact decimal string. */
export function usdAmountFlag(value: string): string {
  if (!/^\d+(\.\d+)?$/.test(value)) {
    throw new InvalidArgumentError(
      `Amount must be a non-negative decimal such as 100000, got ${value}`,
    );
  }
  return value;
}

/** Parses a sampling temperature flag (0 to 2). */
export function temperatureFlag(value: string): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number < 0 || number > 2) {
    throw new InvalidArgumentError(`Temperature must be a number from 0 to 2, got ${value}`);
  }
  return number;
}

/** Parses a whole-number flag of any sign (e.g. a seed). */
export function intFlag(value: string): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(number)) {
    throw new InvalidArgumentError(`Expected a whole number, got ${value}`);
  }
  return number;
}

/** Adds the model request controls: `--temperature`, `--seed`, `--max-tokens`, `--tool-choice`. */
// deno-lint-ignore no-explicit-any
export function addRequestControlFlags<Args extends any[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
) {
  return command
    .option("--temperature <t>", "sampling temperature, 0 to 2 (server default)", temperatureFlag)
    .option("--seed <n>", "sampling seed, for servers that honour it", intFlag)
    .option("--max-tokens <n>", "most completion tokens per model reply", positiveIntFlag)
    .addOption(
      new Option("--tool-choice <choice>", "tool_choice sent with the tools")
        .choices(TOOL_CHOICES),
    );
}

/** The request controls given by {@linkcode addRequestControlFlags}' flags. */
export function requestControls(flags: {
  temperature?: number;
  seed?: number;
  maxTokens?: number;
  toolChoice?: ToolChoice;
}): RequestControls {
  return {
    temperature: flags.temperature,
    seed: flags.seed,
    maxTokens: flags.maxTokens,
    toolChoice: flags.toolChoice,
  };
}

/** Adds the agents' protocol flags: `--protocol`, `--prompt-format`, `--reply-timeout`. */
// deno-lint-ignore no-explicit-any
export function addAgentProtocolFlags<Args extends any[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
) {
  return command
    .addOption(
      new Option("--protocol <protocol>", "tools: the tool loop; json: one JSON decision per call")
        .choices(DECISION_PROTOCOLS).default("tools" as DecisionProtocol),
    )
    .addOption(
      new Option("--prompt-format <format>", "market block: compact (fewest tokens) or plain")
        .choices(PROMPT_FORMATS).default("compact" as PromptFormat),
    )
    .option(
      "--reply-timeout <seconds>",
      "seconds an agent waits for one model reply or tool round (default 60)",
      positiveNumberFlag,
    );
}
