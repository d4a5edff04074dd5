/** The --kafka-client choice: each client opens its own bus, and a service runs on either. */

import assert from "node:assert/strict";
import { KafkaBus } from "../../core/bus/kafka/mod.ts";
import { openKafkaBus } from "../../core/bus/kafka_client.ts";
import { PlatformaticKafkaBus } from "../../core/bus/platformatic/mod.ts";
import { createLogger } from "../../core/log.ts";
import { kafkaBootstrap, uniqueName } from "../_kafka.ts";

const log = createLogger("test.kafka_client", { level: "error", sink: () => {} });

Deno.test("openKafkaBus opens the chosen client", async () => {
  const options = { brokers: ["127.0.0.1:1"], clientId: "test", log };
  const kafkajs = await openKafkaBus("kafkajs", options);
  const platformatic = await openKafkaBus("platformatic", options);
  try {
    assert.ok(kafkajs instanceof KafkaBus);
    assert.ok(platformatic instanceof PlatformaticKafkaBus);
  } finally {
    await kafkajs.close();
    await platformatic.close();
  }
});

Deno.test({
  name: "a service runs on either client (--kafka-client)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const bootstrap = kafkaBootstrap();
    for (const client of ["kafkajs", "platformatic"]) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          "services/ledger.ts",
          "--bootstrap-servers",
          bootstrap,
          "--topic-prefix",
          `${uniqueName("client")}.`,
          "--kafka-client",
          client,
          "--json",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 0, `${client}: ${stderr}`);
      const report = JSON.parse(new TextDecoder().decode(output.stdout)) as { accounts: unknown[] };
      assert.deepEqual(report.accounts, [], `${client}: an empty ledger has no accounts`);
    }
  },
});

Deno.test("--kafka-client platformatic under a task's narrow permissions fails with one line", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "ledger", "--kafka-client", "platformatic", "--json"],
    env: { KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(output.stderr).trim().split("\n");
  assert.equal(output.code, 1);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0]!, /^ledger: --kafka-client platformatic needs `deno run --allow-env/);
});
