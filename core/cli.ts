/**
 * Command-line flags shared by every service, their value parsers, and the one way services parse
 * them: a bad value is one line naming the flag and the valid values, exit code 2, checked
 * before anything connects. Every parser throws commander's InvalidArgumentError, so commander
 * prints `error: option '--x <n>' argument 'abc' is invalid. <what is valid>`.
 */

import {
  Command,
  CommanderError,
  InvalidArgumentError,
  Option,
  type OptionValues,
} from "@commander-js/extra-typings";
import { DECISION_PROTOCOLS, type DecisionProtocol } from "./agents/decision.ts";
import { DEFAULT_LOG_LEVEL, type LogLevel, parseLogLevel } from "./log.ts";
import { PROMPT_FORMATS, type PromptFormat } from "./market/prompt.ts";
import { type RequestControls, TOOL_CHOICES, type ToolChoice } from "./runtime/model_provider.ts";
import {
  type KafkaSecurity,
  parseKafkaSecurity,
  SASL_MECHANISMS,
  type SaslMechanism,
  SECURITY_PROTOCOLS,
  type SecurityProtocol,
} from "./bus/kafka_security.ts";
import { KAFKA_CLIENTS, type KafkaClient } from "./bus/kafka_client.ts";
import { DEFAULT_STARTING_CASH, LEVERAGE_CEILING, type TradeConfig } from "./ledger/trade.ts";

/** The flags every service on a broker shares (see {@linkcode brokerCommand}). */
export type ServiceFlags = {
  /** `--bootstrap-servers`: comma-separated `host:port` list. */
  bootstrapServers: string;
  /** `--log-level`. */
  logLevel: LogLevel;
  /** `--topic-prefix`: prefix of every topic (an isolated arena on a shared broker). */
  topicPrefix: string;
  /** `--security-protocol` (else `KAFKA_SECURITY_PROTOCOL`, else PLAINTEXT). */
  securityProtocol?: SecurityProtocol;
  /** `--sasl-mechanism` (else `KAFKA_SASL_MECHANISM`). */
  saslMechanism?: SaslMechanism;
  /** `--ssl-ca FILE`: PEM file of a private CA (else `KAFKA_SSL_CA_LOCATION`). */
  sslCa?: string;
  /** `--kafka-client`: kafkajs (default) or platformatic. */
  kafkaClient: KafkaClient;
};

/**
 * A command line with the flags every service shares: `--bootstrap-servers`, `--log-level`,
 * `--topic-prefix`, `--kafka-client` and the Kafka security flags.
 */
// deno-lint-ignore ban-types
export type BrokerCommand = Command<[], ServiceFlags, {}>;

/** Exit code of a usage error (a bad flag value or combination), as in most Unix tools. */
export const USAGE_EXIT_CODE = 2;

/** Exit code of a failure at run time (no broker, no exchange, unreadable data). */
export const FAILURE_EXIT_CODE = 1;

/** Options for {@linkcode brokerCommand}. */
export interface BrokerCommandOptions {
  /** What the service does, shown by `--help`. */
  description: string;
}

/**
 * Starts a service's command line with the flags every service shares: `--bootstrap-servers`
 * (default `$KAFKA_BOOTSTRAP_SERVERS`, else `localhost:9092`), `--log-level`, `--topic-prefix` and
 * the Kafka security flags. Build the bus settings with {@linkcode kafkaSecurityOf}.
 */
export function brokerCommand(name: string, options: BrokerCommandOptions): BrokerCommand {
  return addKafkaSecurityFlags(addTopicPrefixFlag(
    new Command()
      .name(name)
      .description(options.description)
      .option(
        "--bootstrap-servers <servers>",
        "Kafka bootstrap servers",
        Deno.env.get("KAFKA_BOOTSTRAP_SERVERS") ?? "localhost:9092",
      )
      .addOption(logLevelOption())
      .addOption(
        new Option("--kafka-client <client>", "Kafka client behind the bus (see README)")
          .choices(KAFKA_CLIENTS).default("kafkajs" as KafkaClient),
      ),
  )) as BrokerCommand;
}

/** Adds `--topic-prefix` (default none): the one declaration of the flag. */
// deno-lint-ignore no-explicit-any
export function addTopicPrefixFlag<Args extends any[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
) {
  return command.option(
    "--topic-prefix <prefix>",
    "prefix of every topic name (isolated arenas on a shared broker, tests)",
    "",
  );
}

/**
 * Adds the Kafka security flags `--security-protocol`, `--sasl-mechanism` and `--ssl-ca`; the
 * SASL user name and password come only from `KAFKA_SASL_USERNAME` / `KAFKA_SASL_PASSWORD`.
 */
// deno-lint-ignore no-explicit-any
export function addKafkaSecurityFlags<Args extends any[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
) {
  return command
    .addOption(
      new Option("--security-protocol <protocol>", "Kafka security.protocol")
        .choices(SECURITY_PROTOCOLS),
    )
    .addOption(
      new Option("--sasl-mechanism <mechanism>", "SASL mechanism of the SASL protocols")
        .choices(SASL_MECHANISMS),
    )
    .option("--ssl-ca <file>", "PEM file of a private CA for SSL and SASL_SSL");
}

/**
 * The Kafka security settings of the shared flags plus the environment (credentials only from
 * `KAFKA_SASL_USERNAME` and `KAFKA_SASL_PASSWORD`). A missing or contradictory setting is a usage
 * error: one line `<service>: <reason>` and exit code 2, before anything connects.
 */
export function kafkaSecurityOf(
  service: string,
  flags: Pick<ServiceFlags, "securityProtocol" | "saslMechanism" | "sslCa">,
): KafkaSecurity {
  try {
    return parseKafkaSecurity({
      protocol: flags.securityProtocol,
      mechanism: flags.saslMechanism,
      caFile: flags.sslCa,
    }, Deno.env);
  } catch (error) {
    usageError(service, (error as Error).message);
  }
}

/** The `--log-level` option, with the one default of every service ({@linkcode DEFAULT_LOG_LEVEL}). */
export function logLevelOption(): Option<"--log-level <level>", undefined, LogLevel, LogLevel> {
  return new Option("--log-level <level>", "debug, info, warn or error")
    .default(DEFAULT_LOG_LEVEL)
    .argParser(logLevelFlag);
}

/** Parses a `--log-level` value (`debug`, `info`, `warn` or `error`; upper case too). */
export function logLevelFlag(value: string): LogLevel {
  try {
    return parseLogLevel(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/**
 * Parses the command line. A usage error (unknown flag, bad value, missing argument) prints
 * commander's one line and exits with {@linkcode USAGE_EXIT_CODE}; `--help` exits with 0.
 */
// deno-lint-ignore no-explicit-any
export function parseFlags<Args extends any[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
  argv?: string[],
): Opts {
  command.exitOverride();
  try {
    return (argv ? command.parse(argv, { from: "user" }) : command.parse()).opts();
  } catch (error) {
    if (error instanceof CommanderError) {
      Deno.exit(error.exitCode === 0 ? 0 : USAGE_EXIT_CODE);
    }
    // A parser that threw something else: still one line, never a stack trace.
    usageError(command.name(), error instanceof Error ? error.message : String(error));
  }
}

/** Prints `<service>: <message>` on standard error and exits with {@linkcode USAGE_EXIT_CODE}. */
export function usageError(service: string, message: string): never {
  console.error(`${service}: ${message}`);
  Deno.exit(USAGE_EXIT_CODE);
}

/** Prints `<service>: <message>` on standard error and exits with {@linkcode FAILURE_EXIT_CODE}. */
export function fatalError(service: string, message: string): never {
  console.error(`${service}: ${message}`);
  Deno.exit(FAILURE_EXIT_CODE);
}

/** Parses a flag that must be a positive number. */
export function positiveNumberFlag(value: string): number {
  const number = Number(value);
  if (!(number > 0) || !Number.isFinite(number)) {
    throw new InvalidArgumentError(`Expected a positive number, got ${value}`);
  }
  return number;
}

/** Parses a flag that must be a number of 0 or more. */
export function nonNegativeNumberFlag(value: string): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number < 0) {
    throw new InvalidArgumentError(`Expected a number of 0 or more, got ${value}`);
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
  if (value.trim() === "" || !Number.isInteger(number) || number < 0) {
    throw new InvalidArgumentError(`Expected a whole number of 0 or more, got ${value}`);
  }
  return number;
}

/** Parses a TCP port flag (0 picks a free port). */
export function portFlag(value: string): number {
  const port = Number(value);
  if (value.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`Port must be an integer from 0 to 65535, got ${value}`);
  }
  return port;
}

/** Parses a fee flag in whole basis points from 0 to 10000. */
export function feeBpsFlag(value: string): number {
  const bps = Number(value);
  if (value.trim() === "" || !Number.isInteger(bps) || bps < 0 || bps > 10_000) {
    throw new InvalidArgumentError(
      `Basis points must be a whole number from 0 to 10000, got ${value}`,
    );
  }
  return bps;
}

/** Parses a price-distance flag in basis points: a number from 0 to below 10000 (fractions too). */
export function basisPointsFlag(value: string): number {
  const bps = Number(value);
  if (value.trim() === "" || !Number.isFinite(bps) || bps < 0 || bps >= 10_000) {
    throw new InvalidArgumentError(
      `Basis points must be a number from 0 to below 10000, got ${value}`,
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

/** Parses `--max-leverage`: a whole number from 1 to {@linkcode LEVERAGE_CEILING}. */
export function maxLeverageFlag(value: string): number {
  const leverage = Number(value);
  if (!Number.isInteger(leverage) || leverage < 1 || leverage > LEVERAGE_CEILING) {
    throw new InvalidArgumentError(
      `Leverage must be a whole number from 1 to ${LEVERAGE_CEILING}, got ${value}`,
    );
  }
  return leverage;
}

/**
 * Adds the trading desk's flags, declared once for the tools service, the arena and the
 * tournament: `--starting-cash`, `--taker-fee-bps`, `--allow-short`, `--max-leverage` and
 * `--exit-plans`/`--no-exit-plans`.
 */
// deno-lint-ignore no-explicit-any
export function addTradeDeskFlags<Args extends any[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
) {
  return command
    .option(
      "--starting-cash <usd>",
      "starting cash of each new account",
      usdAmountFlag,
      DEFAULT_STARTING_CASH,
    )
    .option("--taker-fee-bps <bps>", "taker fee in basis points (0 = frictionless)", feeBpsFlag, 60)
    .option("--allow-short", "a sell with nothing held opens a short (default: spot, long only)")
    .option(
      "--max-leverage <n>",
      `highest leverage a trade may ask for, 1 to ${LEVERAGE_CEILING}; 1 = no borrowing`,
      maxLeverageFlag,
      1,
    );
}

/**
 * Adds `--exit-plans on|off|auto` (tools, arena, tournament): whether models are offered the
 * exit plan and confidence fields. Separate from {@linkcode addTradeDeskFlags} to keep the
 * command types small.
 */
// deno-lint-ignore no-explicit-any
export function addExitPlansFlag<Args extends any[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
) {
  return command.option(
    "--exit-plans <when>",
    "offer models stop_loss, take_profit, invalidation and confidence: on, off or auto (on a " +
      "margin desk); trades carrying them are accepted either way",
    exitPlansFlag,
  );
}

/** Parses `--exit-plans`: `on`, `off` or `auto` (undefined: the desk decides). */
export function exitPlansFlag(value: string): boolean | undefined {
  if (value === "on") return true;
  if (value === "off") return false;
  if (value === "auto") return undefined;
  throw new InvalidArgumentError(`Expected on, off or auto, got ${value}`);
}

/** The desk settings of {@linkcode addTradeDeskFlags}' flags (and `--slippage-bps` where offered). */
export function tradeConfigOf(flags: {
  takerFeeBps: number;
  slippageBps?: number;
  allowShort?: boolean;
  maxLeverage: number;
  exitPlans?: boolean;
}): TradeConfig {
  return {
    takerFeeBps: flags.takerFeeBps,
    slippageBps: flags.slippageBps ?? 0,
    allowShort: flags.allowShort === true,
    maxLeverage: flags.maxLeverage,
    ...(flags.exitPlans === undefined ? {} : { exitPlans: flags.exitPlans }),
  };
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
      "seconds an agent waits for one model reply or tool round (default the model timeout + 5, " +
        "at least 60)",
      positiveNumberFlag,
    );
}

/** How long agents wait, in ms (see {@linkcode agentWaits}). */
export interface AgentWaits {
  /** The wait for one model reply or tool round. */
  replyTimeoutMs: number;
  /** The wait for every agent's decision on a lockstep tick. */
  lockstepTimeoutMs: number;
}

/**
 * How long the agents of an arena or tournament wait: for a model reply a little longer than one
 * HTTP request may take (`--reply-timeout`, else the model timeout plus 5 s, at least 60 s), and
 * on a lockstep tick for a few replies, as the tool loop makes several calls per decision
 * (`--lockstep-timeout`, else 4 replies, at least 120 s).
 */
export function agentWaits(flags: {
  replyTimeout?: number;
  timeoutMs: number;
  lockstepTimeout?: number;
}): AgentWaits {
  const replySeconds = flags.replyTimeout ?? Math.max(60, flags.timeoutMs / 1000 + 5);
  const lockstepSeconds = flags.lockstepTimeout ?? Math.max(120, 4 * replySeconds);
  return { replyTimeoutMs: replySeconds * 1000, lockstepTimeoutMs: lockstepSeconds * 1000 };
}

/**
 * Makes sure a folder can be written (creating it), so a run that writes there at its end fails
 * at start instead. Throws naming the flag and what to do when it cannot.
 */
export async function ensureWritableDir(flag: string, dir: string): Promise<void> {
  const probe = `${dir.replace(/\/+$/, "")}/.write-check-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (error) {
    const denied = error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.PermissionDenied;
    throw new Error(
      denied
        ? `${flag} ${dir} is not writable: the deno task may write only under artifacts/ (pick ` +
          "a folder there, or run with a wider --allow-write)"
        : `${flag} ${dir} is not a writable folder: ${(error as Error).message}`,
    );
  }
}
