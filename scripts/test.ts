/**
 * `deno task test [deno test args]`: makes sure a Kafka broker answers ($KAFKA_BOOTSTRAP_SERVERS
 * or a local ephemeral one), runs `deno test` over tests/ with it, stops the broker it started and
 * exits with deno test's code. Arguments pass through to deno test (e.g. a folder or --filter).
 */

import { ensureBrokerOrExit, runForwardingSignals } from "./_ensure_broker.ts";

const HELP = `Usage: deno task test [deno test arguments...]

Make sure a Kafka broker answers ($KAFKA_BOOTSTRAP_SERVERS, or a local ephemeral one), run
\`deno test\` over tests/ (or the paths given) with it, and stop the broker it started.

Arguments pass through to deno test, e.g.:
  deno task test tests/ledger/          one folder
  deno task test --filter "replay"      tests whose name matches
  deno task test tests/cli/ --parallel  in parallel processes
`;

// Help needs no broker: answer it before anything starts.
if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(HELP);
  Deno.exit(0);
}

/** Permissions the tests need: local network only, files, env, subprocesses (deno, Chromium). */
const TEST_PERMISSIONS = [
  // 0.0.0.0: a test binds the web dashboard to every interface (it only talks to 127.0.0.1).
  "--allow-net=127.0.0.1,localhost,0.0.0.0",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
];

const broker = await ensureBrokerOrExit();
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
