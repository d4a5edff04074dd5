/** Dashboard service: a read-only consumer drawing the arena in the terminal and on the web. */

import { arenaTopics } from "../core/bus/topics.ts";
import {
  brokerCommand,
  fatalError,
  parseFlags,
  portFlag,
  positiveNumberFlag,
} from "../core/cli.ts";
import { createLogger } from "../core/log.ts";
import { brokerServiceOptions, startService } from "../core/service.ts";
import { connectDashboard, DashboardStore } from "../core/dashboard/store.ts";
import { TerminalDashboard } from "../core/dashboard/terminal.ts";
import {
  dashboardAuthToken,
  startWebDashboard,
  type WebDashboard,
} from "../core/dashboard/web_server.ts";

const program = brokerCommand("dashboard", {
  description: "Live terminal and web dashboard of the arena (read-only)",
})
  .option("--port <port>", "web dashboard port", (value) => portFlag(value), 8787)
  .option("--host <host>", "web dashboard address to bind", "127.0.0.1")
  .option(
    "--auth-token <token>",
    "token the web dashboard requires (default $ARENA_DASHBOARD_TOKEN; needed off loopback)",
  )
  .option("--no-web", "do not start the web dashboard")
  .option("--no-tty", "print plain periodic summaries for logs instead of the live screen")
  .option("--interval <seconds>", "seconds between plain summaries", positiveNumberFlag, 10)
  .option("--group-id <id>", "consumer group id (default: unique per run)");

const options = parseFlags(program);
let authToken: string | undefined;
try {
  authToken = options.web
    ? dashboardAuthToken(options.host, options.authToken, Deno.env)
    : undefined;
} catch (error) {
  fatalError("dashboard", (error as Error).message);
}

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
const arena = arenaTopics(options.topicPrefix);
const topics = {
  ledger: arena.ledger.topic,
  prices: arena.prices.topic,
  activity: arena.activity.topic,
  snapshots: arena.snapshots.topic,
};
let terminal: TerminalDashboard | undefined;
let webUrl: string | undefined;

await startService({
  ...brokerServiceOptions("dashboard", { flags: options, clientId: "dashboard", log }),
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
      web = await startWebDashboard(store, {
        port: options.port,
        host: options.host,
        authToken,
        log,
      });
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
    arena.fixed.filter((spec) => read.has(spec.topic)),
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
