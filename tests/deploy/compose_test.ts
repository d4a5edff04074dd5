/**
 * compose.yaml, checked without a Docker engine: the file is parsed as YAML, every service in
 * services/ has an entry running its own deno task with flags that service accepts, the broker
 * address matches a listener Redpanda advertises, and the connector's and chat node's shell
 * commands are run through `sh` with a stub `deno` to see what they would start.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { defaultAgents } from "../../core/agents/strategies.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const decoder = new TextDecoder();

interface ComposeService {
  image?: string;
  command?: string | string[];
  environment?: Record<string, string | number | null>;
  network_mode?: string;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  restart?: string;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = parse(await Deno.readTextFile(`${ROOT}compose.yaml`), {
  merge: true,
}) as ComposeFile;
const tasks = (JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
  tasks: Record<string, string>;
}).tasks;
/** Entry points that run the whole arena in one process: not deployed as compose services. */
const ONE_PROCESS = ["arena", "tournament"];
const serviceNames = [...Deno.readDirSync(`${ROOT}services`)]
  .filter((entry) => entry.isFile && entry.name.endsWith(".ts") && !entry.name.startsWith("_"))
  .map((entry) => entry.name.replace(/\.ts$/, ""))
  .filter((name) => !ONE_PROCESS.includes(name))
  .sort();

/** Compose's own substitution: `$$` is a literal `$`, `${NAME:-default}` reads the environment. */
function interpolate(text: string, env: Record<string, string> = {}): string {
  return text.replace(/\$\$|\$\{(\w+)(?::-([^}]*))?\}/g, (match, name, fallback) => {
    if (match === "$$") return "$";
    return env[name] || fallback || "";
  });
}

function commandText(service: ComposeService): string {
  const command = service.command ?? [];
  return Array.isArray(command) ? command.join(" ") : command;
}

/** The deno tasks a compose service starts (`deno task NAME` anywhere in its command). */
function tasksRun(service: ComposeService): string[] {
  const names = [...commandText(service).matchAll(/deno task (\w+)/g)].map((match) => match[1]!);
  return [...new Set(names)];
}

function envOf(service: ComposeService, host: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map((
      [key, value],
    ) => [key, interpolate(String(value ?? ""), host)]),
  );
}

/** Runs a service's `sh -c` command with a stub `deno` that prints its arguments, one a line. */
async function dryRun(service: ComposeService, host: Record<string, string>): Promise<string[]> {
  const command = service.command as string[];
  assert.deepEqual(command.slice(0, 2), ["sh", "-c"]);
  const bin = await Deno.makeTempDir({ prefix: "compose_test_" });
  try {
    await Deno.writeTextFile(`${bin}/deno`, '#!/bin/sh\nprintf "%s\\n" "$@"\n');
    await Deno.chmod(`${bin}/deno`, 0o755);
    const output = await new Deno.Command("sh", {
      args: ["-c", interpolate(command[2]!)],
      cwd: ROOT,
      env: { ...envOf(service, host), PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(10_000),
    }).output();
    assert.equal(output.code, 0, decoder.decode(output.stderr));
    return decoder.decode(output.stdout).trimEnd().split("\n");
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
}

/** The `--help` text of a service, run through its own deno task. */
async function helpOf(task: string): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", task, "--help"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  assert.equal(output.code, 0, decoder.decode(output.stderr));
  return decoder.decode(output.stdout);
}

const arenaServices = Object.entries(compose.services).filter(([, service]) =>
  service.image?.startsWith("denoland/deno:")
);

Deno.test("compose: Redpanda and Console are there, and every service in services/ has an entry", () => {
  assert.ok(compose.services.redpanda, "redpanda");
  assert.ok(compose.services.console, "console");
  for (const name of serviceNames) {
    assert.ok(compose.services[name], `compose.yaml has a service ${name}`);
    assert.deepEqual(tasksRun(compose.services[name]!), [name], `${name} runs deno task ${name}`);
  }
});

Deno.test("compose: arena services use the official Deno image of the pinned release", async () => {
  const ci = await Deno.readTextFile(`${ROOT}.ci/run`);
  const pinned = ci.match(/deno@(\d+\.\d+\.\d+)/)?.[1];
  assert.ok(pinned, ".ci/run pins a Deno release");
  assert.ok(arenaServices.length >= serviceNames.length);
  for (const [name, service] of arenaServices) {
    assert.equal(service.image, `denoland/deno:${pinned}`, name);
    assert.equal(service.network_mode, "service:redpanda", name);
    assert.ok(service.volumes?.includes(".:/app:ro"), `${name} mounts the project read-only`);
    assert.ok(service.volumes?.some((volume) => volume.startsWith("deno-dir:")), name);
  }
  assert.ok(compose.volumes && "deno-dir" in compose.volumes);
});

Deno.test("compose: every command runs a wired deno task that can reach the broker", () => {
  for (const [name, service] of arenaServices) {
    if (name === "deps") {
      assert.match(commandText(service), /^deno cache --frozen( services\/\w+\.ts)+$/);
      const cached = commandText(service).split(" ").slice(3).sort();
      assert.deepEqual(cached, serviceNames.map((service) => `services/${service}.ts`));
      continue;
    }
    for (const task of tasksRun(service)) {
      const line = tasks[task];
      assert.ok(line, `deno.json has task ${task}`);
      assert.match(line, new RegExp(`^deno run .* services/${task}\\.ts$`), task);
      const net = line.match(/--allow-net=(\S+)/)?.[1]?.split(",") ?? [];
      assert.ok(net.includes("localhost"), `${task} may reach the broker at localhost`);
    }
  }
});

Deno.test("compose: the broker address is a listener Redpanda advertises to its own network", () => {
  const advertise = (compose.services.redpanda!.command as string[])
    .find((word) => word.startsWith("--advertise-kafka-addr="))!;
  for (const [name, service] of arenaServices) {
    const env = envOf(service);
    assert.equal(env.KAFKA_BOOTSTRAP_SERVERS, "localhost:9092", name);
    assert.ok(advertise.includes(`://${env.KAFKA_BOOTSTRAP_SERVERS}`), advertise);
    if (name === "deps") continue;
    assert.equal(
      service.depends_on?.redpanda?.condition,
      "service_healthy",
      `${name} waits for the broker`,
    );
    assert.equal(service.depends_on?.deps?.condition, "service_completed_successfully", name);
  }
});

Deno.test("compose: only the chat node gets the API key; the model defaults to rules", async () => {
  for (const [name, service] of arenaServices) {
    assert.equal(
      "OPENAI_API_KEY" in (service.environment ?? {}),
      name === "chat_node",
      `${name} and OPENAI_API_KEY`,
    );
  }
  const chat = compose.services.chat_node!;
  const offline = await dryRun(chat, {});
  assert.deepEqual(offline, [
    "task",
    "chat_node",
    "--model",
    "rules",
    "--model-id",
    "gpt-5-nano",
  ]);
  const custom = await dryRun(chat, {
    ARENA_MODEL: "openai",
    ARENA_MODEL_ID: "gpt-4.1-mini",
    ARENA_BASE_URL: "http://localhost:11434/v1",
    OPENAI_API_KEY: "sk-test",
  });
  assert.deepEqual(custom, [
    "task",
    "chat_node",
    "--model",
    "openai",
    "--model-id",
    "gpt-4.1-mini",
    "--base-url",
    "http://localhost:11434/v1",
  ]);
  assert.equal(envOf(chat, { OPENAI_API_KEY: "sk-test" }).OPENAI_API_KEY, "sk-test");
});

Deno.test("compose: the connector replays the fixtures in lockstep by default, live on request", async () => {
  const connector = compose.services.connector!;
  const replay = await dryRun(connector, { ARENA_START_DELAY: "0" });
  const agents = defaultAgents().map((agent) => agent.name).join(",");
  assert.deepEqual(replay, [
    "task",
    "connector",
    "--replay",
    "fixtures/market",
    "--lockstep",
    "--min-interval",
    "60",
    "--agents",
    agents,
  ]);
  const csvs = [...Deno.readDirSync(`${ROOT}fixtures/market`)].filter((entry) =>
    entry.name.endsWith(".csv")
  );
  assert.ok(csvs.length >= 1, "fixtures/market holds candle CSVs");
  const short = await dryRun(connector, { ARENA_START_DELAY: "0", ARENA_REPLAY_TICKS: "30" });
  assert.deepEqual(short.slice(-2), ["--max-ticks", "30"]);
  const live = await dryRun(connector, { ARENA_FEED: "live", ARENA_MIN_INTERVAL: "30" });
  assert.deepEqual(live, ["task", "connector", "--min-interval", "30"]);
  assert.equal(connector.restart, "on-failure", "a finished replay is not started again");
});

Deno.test("compose: the web dashboard is published and allowed to listen on all interfaces", () => {
  const dashboard = compose.services.dashboard!;
  const words = dashboard.command as string[];
  assert.equal(words[words.indexOf("--host") + 1], "0.0.0.0");
  const port = words[words.indexOf("--port") + 1];
  const published = compose.services.redpanda!.ports!.map((entry) => interpolate(entry));
  assert.ok(published.includes(`127.0.0.1:8787:${port}`), published.join(" "));
  assert.ok(words.includes("--no-tty"), "plain summaries in the container logs");
  assert.match(tasks.dashboard!, /--allow-net=\S*0\.0\.0\.0/);
  assert.deepEqual(compose.services.ledger!.profiles, ["cli"]);
});

Deno.test("compose: every flag in a compose command is one the service accepts", async () => {
  const commands: Record<string, string[]> = {
    chat_node: await dryRun(compose.services.chat_node!, { ARENA_BASE_URL: "http://x" }),
    connector: [
      ...await dryRun(compose.services.connector!, {
        ARENA_START_DELAY: "0",
        ARENA_REPLAY_TICKS: "1",
      }),
      ...await dryRun(compose.services.connector!, { ARENA_FEED: "live" }),
    ],
  };
  for (const name of serviceNames) {
    const words = commands[name] ?? (compose.services[name]!.command as string[]);
    const flags = words.filter((word) => word.startsWith("--"));
    if (flags.length === 0) continue;
    const help = await helpOf(name);
    for (const flag of flags) {
      assert.ok(help.includes(flag), `${name} --help lists ${flag}`);
    }
  }
});
