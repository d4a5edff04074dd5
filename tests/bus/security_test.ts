/**
 * Managed-broker security against a real local Kafka with a SASL_SSL listener: a broker of its
 * own (never the shared one) with a self-signed CA made at test time and SCRAM users created by
 * Kafka's storage tool. Every broker service runs as its own `deno task` (so the tasks'
 * permissions are tested too) and an arena runs on it; a wrong password, an unknown CA and a
 * plaintext client on the TLS port each fail fast with one line; the password appears in no log
 * line, topic record or error.
 */

import assert from "node:assert/strict";
import { defaultAgents } from "../../core/agents/strategies.ts";
import type { LedgerReport } from "../../core/metrics/ledger_report.ts";
import {
  makeCertificateAuthority,
  type RunningBroker,
  startBroker,
} from "../../scripts/_kafka_broker.ts";
import { startTask, type TaskProcess } from "../_task_process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const RUN = crypto.randomUUID().slice(0, 8);
const USER = "arena-user";
/** Distinctive, so a leak anywhere is found by a plain byte search. */
const PASSWORD = `Pw-${crypto.randomUUID().replaceAll("-", "")}`;
const WRONG_PASSWORD = `Wrong-${crypto.randomUUID().replaceAll("-", "")}`;
/** The tasks may read CA files only under certs/ (see deno.json): the test's CAs go there. */
const CA_FILE = `certs/test-${RUN}-ca.pem`;
const OTHER_CA_FILE = `certs/test-${RUN}-other-ca.pem`;
const PREFIX = `sec.${RUN}.`;
const AGENTS = defaultAgents().map((agent) => agent.name);
/** A failing service must be done within this (the bound). */
const FAIL_FAST_MS = 15_000;

/** Every task started, stopped together however the test ends. */
const running: TaskProcess[] = [];

/** Starts `deno task -q <args>` (no echo of the command line) and keeps it in `running`. */
function startQuietTask(name: string, args: string[], env: Record<string, string>): TaskProcess {
  const task = startTask(name, ["-q", ...args], { env });
  running.push(task);
  return task;
}

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await filesUnder(path));
    else if (entry.isFile) files.push(path);
  }
  return files;
}

function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

/** Asserts a failing service's whole output: exit 1, fast, one line naming the cause. */
async function assertFailsFast(
  name: string,
  args: string[],
  env: Record<string, string>,
  expected: RegExp,
): Promise<void> {
  const started = Date.now();
  const task = startQuietTask(name, args, env);
  const status = await task.waitForExit(FAIL_FAST_MS + 10_000);
  const elapsed = Date.now() - started;
  const lines = task.lines.filter((line) => line.trim() !== "");
  assert.equal(status.code, 1, task.tail());
  assert.ok(elapsed < FAIL_FAST_MS, `${name} took ${elapsed} ms\n${task.tail()}`);
  assert.equal(lines.length, 1, `one line, not a retry loop of stacks\n${task.tail()}`);
  assert.match(lines[0]!, expected);
  assert.ok(!lines[0]!.includes(PASSWORD) && !lines[0]!.includes(WRONG_PASSWORD), lines[0]);
}

Deno.test({
  name: "SASL_SSL broker: every service connects, an arena runs, failures are one line",
  // The services' output and the broker's data are read after the steps.
  sanitizeResources: false,
  sanitizeOps: false,
}, async (t) => {
  let broker: RunningBroker | undefined;
  await Deno.mkdir(`${ROOT}certs`, { recursive: true });
  const scratch = await Deno.makeTempDir({ prefix: "security_test_" });
  try {
    broker = await startBroker({
      port: 0,
      ephemeral: true,
      progress: () => {},
      saslSsl: { users: [{ username: USER, password: PASSWORD }] },
    });
    const secure = broker.saslSsl!;
    await Deno.copyFile(secure.caFile, `${ROOT}${CA_FILE}`);
    const other = await makeCertificateAuthority(scratch, { name: "some other CA" });
    await Deno.copyFile(other.caFile, `${ROOT}${OTHER_CA_FILE}`);
    /** Everything from the environment, the usual Kafka names. */
    const secureEnv = {
      KAFKA_BOOTSTRAP_SERVERS: secure.bootstrap,
      KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
      KAFKA_SASL_MECHANISM: "scram-sha-256",
      KAFKA_SSL_CA_LOCATION: CA_FILE,
      KAFKA_SASL_USERNAME: USER,
      KAFKA_SASL_PASSWORD: PASSWORD,
    };
    /** Credentials from the environment, the rest as flags. */
    const credentialsEnv = { KAFKA_SASL_USERNAME: USER, KAFKA_SASL_PASSWORD: PASSWORD };
    const securityFlags = [
      "--bootstrap-servers",
      secure.bootstrap,
      "--security-protocol",
      "SASL_SSL",
      "--sasl-mechanism",
      "scram-sha-512",
      "--ssl-ca",
      CA_FILE,
    ];
    // The broker is this test's own: the services use the default topics (which the report reads).
    const common = ["--log-level", "info"];

    await t.step("the services connect over SASL_SSL and an arena runs on them", async () => {
      const tools = startQuietTask("tools", ["tools", ...common], secureEnv);
      const chat = startQuietTask(
        "chat_node",
        ["chat_node", "--model", "rules", ...common],
        secureEnv,
      );
      const router = startQuietTask(
        "router",
        ["router", ...securityFlags, ...common],
        credentialsEnv,
      );
      const dashboard = startQuietTask(
        "dashboard",
        ["dashboard", "--no-tty", "--port", "0", ...common],
        secureEnv,
      );
      await Promise.all([
        tools.waitForLine(/"Tools ready"/, 60_000),
        chat.waitForLine(/"Chat node ready"/, 60_000),
        router.waitForLine(/"Agents ready"/, 60_000),
        dashboard.waitForLine(/Web dashboard: http:\/\/127\.0\.0\.1:\d+\//, 60_000),
      ]);
      const connector = startQuietTask("connector", [
        "connector",
        "--replay",
        "fixtures/market",
        "--lockstep",
        "--agents",
        AGENTS.join(","),
        "--max-ticks",
        "2",
        ...common,
      ], secureEnv);
      const replay = await connector.waitForExit(120_000);
      assert.equal(replay.code, 0, connector.tail());
      assert.ok(connector.lines.some((line) => /"Replay done"/.test(line)), connector.tail());

      const ledger = startQuietTask("ledger", ["ledger", "--json"], secureEnv);
      const exported = await ledger.waitForExit(60_000);
      assert.equal(exported.code, 0, ledger.tail());
      const report = JSON.parse(ledger.stdout.join("\n")) as LedgerReport;
      assert.deepEqual(
        report.accounts.map((entry) => entry.account.agent).sort(),
        [...AGENTS].sort(),
        "every agent has an account on the ledger topic, read over SASL_SSL",
      );
      const out = `${scratch}/report`;
      const reportTask = startQuietTask("report", [
        "report",
        "--out",
        out,
        ...securityFlags,
      ], credentialsEnv);
      assert.equal((await reportTask.waitForExit(60_000)).code, 0, reportTask.tail());
      const json = JSON.parse(await Deno.readTextFile(`${out}/report.json`));
      assert.equal(
        json.leaderboard.length,
        AGENTS.length,
        "the report reads the run over SASL_SSL",
      );
      await Promise.all([tools, chat, router, dashboard].map((task) => task.stop()));
    });

    await t.step("the one-process arena runs on the SASL_SSL broker", async () => {
      const arena = startQuietTask("arena", [
        "arena",
        "--replay",
        "fixtures/market",
        "--lockstep",
        "--max-ticks",
        "2",
        "--model",
        "rules",
        "--no-web",
        "--no-tty",
        "--topic-prefix",
        PREFIX,
        "--report-dir",
        `artifacts/security-test-${RUN}`,
        ...securityFlags,
      ], credentialsEnv);
      try {
        const status = await arena.waitForExit(120_000);
        assert.equal(status.code, 0, arena.tail());
        assert.ok(
          AGENTS.every((agent) => arena.lines.some((line) => line.includes(agent))),
          `the final leaderboard names every agent\n${arena.tail()}`,
        );
      } finally {
        await Deno.remove(`${ROOT}artifacts/security-test-${RUN}`, { recursive: true })
          .catch(() => {});
      }
    });

    await t.step("a wrong password fails fast with one line", async () => {
      await assertFailsFast(
        "tools (wrong password)",
        ["tools", ...common],
        { ...secureEnv, KAFKA_SASL_PASSWORD: WRONG_PASSWORD },
        new RegExp(`^tools: SASL authentication failed for user "${USER}" \\(scram-sha-256\\)`),
      );
    });

    await t.step("an unknown CA fails fast with one line", async () => {
      await assertFailsFast(
        "router (unknown CA)",
        ["router", ...common],
        { ...secureEnv, KAFKA_SSL_CA_LOCATION: OTHER_CA_FILE },
        new RegExp(
          `^router: TLS certificate of the Kafka broker at ${secure.bootstrap} is not signed by ` +
            `the CA in ${OTHER_CA_FILE.replaceAll(".", "\\.")} \\(certificate verify failed\\)`,
        ),
      );
    });

    await t.step("a plaintext client on the TLS port fails fast with one line", async () => {
      await assertFailsFast(
        "ledger (plaintext)",
        ["ledger", "--json", "--bootstrap-servers", secure.bootstrap],
        {},
        /^ledger: The Kafka broker at \S+ closed the connection of a PLAINTEXT client: the port probably expects TLS/,
      );
    });

    await t.step("the password is in no log line, topic record or error", async () => {
      await Promise.all(running.map((task) => task.stop()));
      const allOutput = running.flatMap((task) => task.lines);
      assert.ok(allOutput.length > 20, "the services printed their logs");
      const leaks = allOutput.filter((line) => line.includes(PASSWORD));
      assert.deepEqual(leaks, [], "no output line holds the password");
      // Every topic's records, as the broker stored them (the arena writes uncompressed).
      const kraft = `${broker!.dataDir}/kraft`;
      const segments = (await filesUnder(kraft)).filter((path) =>
        path.endsWith(".log") && !path.includes("__cluster_metadata")
      );
      const secret = new TextEncoder().encode(PASSWORD);
      const marker = new TextEncoder().encode(AGENTS[0]!);
      let withMarker = 0;
      for (const path of segments) {
        const bytes = await Deno.readFile(path);
        assert.ok(!containsBytes(bytes, secret), `${path} holds the password`);
        if (containsBytes(bytes, marker)) withMarker++;
      }
      assert.ok(withMarker > 0, "the search reads real records (an agent's name is found)");
      const brokerLog = await Deno.readTextFile(broker!.logFile);
      assert.ok(!brokerLog.includes(PASSWORD), "the broker log does not hold the password");
    });
  } finally {
    await Promise.all(running.map((task) => task.stop()));
    await broker?.stop();
    for (const file of [CA_FILE, OTHER_CA_FILE]) {
      await Deno.remove(`${ROOT}${file}`).catch(() => {});
    }
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
});
