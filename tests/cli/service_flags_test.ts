/** The flags every service shares, declared once in core/cli.ts, and the shutdown helper. */

import assert from "node:assert/strict";
import { CommanderError } from "@commander-js/extra-typings";
import { brokerCommand, kafkaSecurityOf } from "../../core/cli.ts";
import { onShutdownSignals, SIGTERM_EXIT_CODE, StopStack } from "../../core/shutdown.ts";

function parse(argv: string[]) {
  return brokerCommand("svc", { description: "test" })
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .parse(argv, { from: "user" })
    .opts();
}

Deno.test("every service command has --topic-prefix (default none) and the Kafka security flags", () => {
  const none = parse([]);
  assert.equal(none.topicPrefix, "");
  assert.equal(none.securityProtocol, undefined);
  const flags = parse([
    "--topic-prefix",
    "x3.",
    "--security-protocol",
    "SASL_SSL",
    "--sasl-mechanism",
    "scram-sha-512",
    "--ssl-ca",
    "ca.pem",
  ]);
  assert.equal(flags.topicPrefix, "x3.");
  assert.equal(flags.securityProtocol, "SASL_SSL");
  assert.equal(flags.saslMechanism, "scram-sha-512");
  assert.equal(flags.sslCa, "ca.pem");
});

Deno.test("a security protocol or mechanism outside Kafka's values is a usage error", () => {
  assert.throws(() => parse(["--security-protocol", "TLS"]), CommanderError);
  assert.throws(() => parse(["--sasl-mechanism", "gssapi"]), CommanderError);
});

Deno.test("kafkaSecurityOf builds the settings from the flags, credentials from the environment", () => {
  assert.deepEqual(kafkaSecurityOf("svc", { securityProtocol: "PLAINTEXT" }), {
    protocol: "PLAINTEXT",
  });
  const saved = ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"].map((name) =>
    [name, Deno.env.get(name)] as const
  );
  try {
    Deno.env.set("KAFKA_SASL_USERNAME", "arena");
    Deno.env.set("KAFKA_SASL_PASSWORD", "s3cret-pass");
    const security = kafkaSecurityOf("svc", {
      securityProtocol: "SASL_PLAINTEXT",
      saslMechanism: "scram-sha-256",
    });
    assert.equal(security.protocol, "SASL_PLAINTEXT");
    assert.deepEqual(security.sasl, {
      mechanism: "scram-sha-256",
      username: "arena",
      password: "s3cret-pass",
    });
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
});

Deno.test("StopStack closes the last started first and goes on past a failing stop", async () => {
  const closed: string[] = [];
  const stops = new StopStack();
  stops.push(() => void closed.push("tools"));
  stops.push(() => {
    closed.push("chat");
    throw new Error("chat node would not stop");
  });
  stops.push(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    closed.push("agents");
  });
  await stops.closeAll();
  assert.deepEqual(closed, ["agents", "chat", "tools"]);
  await stops.closeAll();
  assert.equal(closed.length, 3, "each stop runs once");
});

Deno.test("onShutdownSignals calls stop once with 143 on SIGTERM", async () => {
  const codes: number[] = [];
  const { promise, resolve } = Promise.withResolvers<void>();
  const remove = onShutdownSignals((code) => {
    codes.push(code);
    resolve();
  }, { interrupt: false });
  // Signal listeners do not keep the event loop alive: a timer does, while the test waits.
  const keepAlive = setTimeout(() => {}, 5_000);
  try {
    Deno.kill(Deno.pid, "SIGTERM");
    await promise;
    Deno.kill(Deno.pid, "SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(codes, [SIGTERM_EXIT_CODE]);
  } finally {
    clearTimeout(keepAlive);
    remove();
  }
});
