/** `deno task broker`: runs a single-node Apache Kafka broker on 127.0.0.1 until Ctrl-C. */

import { Command, Option } from "@commander-js/extra-typings";
import { parseFlags, portFlag } from "../core/cli.ts";
import { fetchKafkaJars, KAFKA_VERSION, MissingToolError, startBroker } from "./_kafka_broker.ts";

const program = new Command()
  .name("broker")
  .description(`Run a single-node Apache Kafka ${KAFKA_VERSION} broker (KRaft) on 127.0.0.1`)
  .addOption(
    new Option("--port <port>", "client port on 127.0.0.1 (0 picks a free one)")
      .default(9092)
      .argParser(portFlag),
  )
  .option("--data-dir <dir>", "data folder, formatted on first use", ".cache/kafka-data")
  .option("--ephemeral", "use a temporary data folder, deleted when the broker stops", false)
  .option("--fetch-only", "only fetch the broker's jars into .cache/ (for CI), then exit", false);
const options = parseFlags(program, Deno.args);

if (options.fetchOnly) {
  try {
    console.log(`Kafka ${KAFKA_VERSION} jars are in ${await fetchKafkaJars()}`);
    Deno.exit(0);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}

let broker;
try {
  broker = await startBroker({
    port: options.port,
    dataDir: options.dataDir,
    ephemeral: options.ephemeral,
  });
} catch (error) {
  console.error(error instanceof MissingToolError ? error.message : String(error));
  Deno.exit(1);
}
const running = broker;
console.log(`Kafka ${KAFKA_VERSION} is ready at ${running.bootstrap}`);
console.log(`export KAFKA_BOOTSTRAP_SERVERS=${running.bootstrap}`);
console.error(`Data in ${running.dataDir}; broker log in ${running.logFile}. Ctrl-C stops it.`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.error(`Received ${signal}; stopping the broker`);
  await running.stop();
  console.error("Broker stopped");
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
const code = await running.exited;
if (!stopping) {
  console.error(`The broker exited by itself with code ${code}; see ${running.logFile}`);
  Deno.exit(code === 0 ? 1 : code);
}
