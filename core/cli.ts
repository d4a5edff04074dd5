/** Command-line flags shared by every service that connects to the broker. */

import { Command, Option } from "@commander-js/extra-typings";
import { type LogLevel, parseLogLevel } from "./log.ts";

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
