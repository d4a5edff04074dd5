/** Dashboard service: a read-only consumer drawing the arena in the terminal and on the web. */

import {
  ACTIVITY_TOPIC,
  AGENT_INPUT_TOPIC,
  ARENA_TOPICS,
  LEDGER_TOPIC,
  PRICE_TOPIC,
} from "../core/bus/topics.ts";
import { brokerCommand, parseFlags, portFlag, positiveNumberFlag } from "../core/cli.ts";
import { createLogger } from "../core/log.ts";
import { startService } from "../core/service.ts";
import { connectDashboard, DashboardStore } from "../core/dashboard/store.ts";
import { TerminalDashboard } from "../core/dashboard/terminal.ts";
import { startWebDashboard, type WebDashboard } from "../core/dashboard/web_server.ts";

const program = brokerCommand("dashboard", {
  description: "Live terminal and web dashboard of the arena (read-only)",
})
  .option("--port <port>", "web dashboard port", (value) => portFlag(value), 8787)
  .option("--host <host>", "web dashboard address to bind", "127.0.0.1")
  .option("--no-web", "do not start the web dashboard")
  .option("--no-tty", "print plain periodic summaries for logs instead of the live screen")
  .option("--interval <seconds>", "seconds between plain summaries", positiveNumberFlag, 10)
  .option("--group-id <id>", "consumer group id (default: unique per run)")
  .option("--topic-prefix <prefix>", "prefix of every topic name (isolated arenas, tests)", "");

const options = parseFlags(program);

const interactive = options.tty && Deno.stdout.isTerminal();
// The live screen owns the terminal: keep log lines and print them after it is restored.
const heldLines: string[] = [];
const log = createLogger("dashboard", {
  level: options.logLevel,
  sink: interactive
    ? (line) => heldLines.push(line) > 200 && heldLines.shift()
    : (line) => console.error(line),
});

const store = new DashboardStore();
const prefix = options.topicPrefix;
const topics = {
  ledger: prefix + LEDGER_TOPIC,
  prices: prefix + PRICE_TOPIC,
  activity: prefix + ACTIVITY_TOPIC,
  snapshots: prefix + AGENT_INPUT_TOPIC,
};
let terminal: TerminalDashboard | undefined;
let webUrl: string | undefined;

await startService({
  name: "dashboard",
  bootstrapServers: options.bootstrapServers,
  clientId: "dashboard",
  log,
  // The live screen handles Ctrl-C itself.
  interrupt: !interactive,
  beforeExit: () => {
    terminal?.stop();
    for (const line of heldLines.splice(0)) console.error(line);
    if (webUrl && interactive) console.log(`Web dashboard was at ${webUrl}`);
  },
}, async ({ bus, shutdown }) => {
  let web: WebDashboard | undefined;
  if (options.web) {
    try {
      web = await startWebDashboard(store, { port: options.port, host: options.host, log });
    } catch (error) {
      throw new Error(
        error instanceof Deno.errors.AddrInUse
          ? `Could not start the web dashboard: port ${options.port} on ${options.host} is in ` +
            "use: pass --port N (0 picks a free one)"
          : `Could not start the web dashboard: ${(error as Error).message}`,
      );
    }
    webUrl = web.url;
    if (!interactive) console.log(`Web dashboard: ${web.url}`);
  }
  terminal = new TerminalDashboard(store, {
    mode: interactive ? "tty" : "plain",
    intervalMs: interactive ? 250 : options.interval * 1000,
    onInterrupt: () => void shutdown(130),
    note: web ? `web ${web.url}` : undefined,
  });
  terminal.start();
  // Missing topics are created with their real specs, never left to broker defaults.
  const read = new Set<string>(Object.values(topics));
  await bus.ensureTopics(
    ARENA_TOPICS.map((spec) => ({ ...spec, topic: prefix + spec.topic }))
      .filter((spec) => read.has(spec.topic)),
  );
  const subscription = await connectDashboard(bus, store, {
    log,
    groupId: options.groupId,
    topics,
  });
  return async () => {
    terminal?.stop();
    await subscription.close().catch(() => {});
    await web?.close().catch(() => {});
  };
});
