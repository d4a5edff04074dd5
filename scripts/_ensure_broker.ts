/** Finds or starts the broker that tests and benchmarks run against. */

import { brokerAnswers, MissingToolError, startBroker } from "./_kafka_broker.ts";

/** A broker ready for use; `stop` does nothing when the broker was already running. */
export interface EnsuredBroker {
  /** Bootstrap address to export as KAFKA_BOOTSTRAP_SERVERS. */
  bootstrap: string;
  /** True when this process started the broker. */
  started: boolean;
  /** Stops the broker if this process started it. */
  stop(): Promise<void>;
}

/**
 * Uses $KAFKA_BOOTSTRAP_SERVERS when it answers, else starts an ephemeral local broker on a free
 * port. Throws naming what is missing when neither is possible.
 */
export async function ensureBroker(
  options: { progress?: (line: string) => void } = {},
): Promise<EnsuredBroker> {
  const progress = options.progress ?? ((line: string) => console.error(line));
  const configured = Deno.env.get("KAFKA_BOOTSTRAP_SERVERS")?.trim();
  if (configured) {
    if (await brokerAnswers(configured, 5_000)) {
      progress(`Using the Kafka broker at ${configured} (KAFKA_BOOTSTRAP_SERVERS)`);
      return { bootstrap: configured, started: false, stop: () => Promise.resolve() };
    }
    progress(
      `KAFKA_BOOTSTRAP_SERVERS=${configured} does not answer; starting a local broker instead`,
    );
  }
  progress("Starting a local ephemeral Kafka broker");
  try {
    const broker = await startBroker({ port: 0, ephemeral: true, progress });
    progress(`Local Kafka broker ready at ${broker.bootstrap}`);
    return { bootstrap: broker.bootstrap, started: true, stop: () => broker.stop() };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const hint = error instanceof MissingToolError
      ? ""
      : "\nOr point KAFKA_BOOTSTRAP_SERVERS at a running broker (e.g. `deno task broker`).";
    throw new Error(
      `No Kafka broker for the tests: KAFKA_BOOTSTRAP_SERVERS is ${
        configured ? `${configured} (not answering)` : "not set"
      } and a local broker could not be started: ${reason}${hint}`,
    );
  }
}

/** {@linkcode ensureBroker} for the task scripts: with no broker, prints why and exits with 1. */
export async function ensureBrokerOrExit(): Promise<EnsuredBroker> {
  try {
    return await ensureBroker();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}

/** Runs a child process with the given environment, forwarding Ctrl-C; resolves its exit code. */
export async function runForwardingSignals(
  command: string,
  options: { args: string[]; env: Record<string, string> },
): Promise<number> {
  const child = new Deno.Command(command, {
    args: options.args,
    env: options.env,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const forward = (signal: Deno.Signal) => () => {
    try {
      child.kill(signal);
    } catch {
      // Already exited.
    }
  };
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  try {
    const status = await child.status;
    return status.signal ? 128 + signalNumber(status.signal) : status.code;
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
  }
}

function signalNumber(signal: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = {
    SIGINT: 2,
    SIGKILL: 9,
    SIGTERM: 15,
  };
  return numbers[signal] ?? 1;
}
