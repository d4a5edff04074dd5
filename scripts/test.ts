/**
 * `deno task test [deno test args]`: makes sure a Kafka broker answers ($KAFKA_BOOTSTRAP_SERVERS
 * or a local ephemeral one), runs `deno test` over tests/ with it, stops the broker it started and
 * exits with deno test's code. Arguments pass through to deno test (e.g. a folder or --filter).
 */

import { ensureBroker, runForwardingSignals } from "./_ensure_broker.ts";

/** Permissions the tests need: local network only, files, env, subprocesses (deno, Chromium). */
const TEST_PERMISSIONS = [
  "--allow-net=127.0.0.1,localhost",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
];

let broker;
try {
  broker = await ensureBroker();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  Deno.exit(1);
}
let code = 1;
try {
  const paths = Deno.args.length > 0 ? Deno.args : ["tests/"];
  code = await runForwardingSignals(Deno.execPath(), {
    args: ["test", ...TEST_PERMISSIONS, ...paths],
    env: { KAFKA_BOOTSTRAP_SERVERS: broker.bootstrap },
  });
} finally {
  if (broker.started) console.error("Stopping the local Kafka broker");
  await broker.stop();
}
Deno.exit(code);
