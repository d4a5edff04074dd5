/**
 * A separate OS process for the two-process test: it serves echo requests on the real broker.
 * Usage: `deno run _echo_process.ts <request topic> <group id> [--hang]`; prints `ready` once it
 * has joined the group, `handling <text>` when a request starts, and stops cleanly on SIGTERM.
 * With `--hang`, a request whose text is `hang` never finishes (to be killed mid-handler).
 */

import { z } from "zod";
import { KafkaBus } from "../../core/bus/kafka/mod.ts";
import { serveRequests } from "../../core/bus/request_reply.ts";
import { createLogger } from "../../core/log.ts";
import { kafkaBootstrap } from "../_kafka.ts";

const [requestTopic, groupId, mode] = Deno.args;
if (!requestTopic || !groupId) {
  throw new Error("Usage: _echo_process.ts <request topic> <group id> [--hang]");
}
const log = createLogger(`echo.${Deno.pid}`, { level: "error" });
const bus = new KafkaBus({
  brokers: [kafkaBootstrap()],
  clientId: `echo-${Deno.pid}`,
  log,
  sessionTimeoutMs: 6_000,
  heartbeatIntervalMs: 200,
  rebalanceTimeoutMs: 10_000,
  maxWaitTimeMs: 100,
});
const server = await serveRequests(bus, {
  groupId,
  topic: requestTopic,
  log,
  schema: z.object({ correlationId: z.string(), replyTo: z.string(), text: z.string() }),
  handle: async (request) => {
    console.log(`handling ${request.text}`);
    if (mode === "--hang" && request.text === "hang") await new Promise(() => {});
    return {
      replyTo: request.replyTo,
      key: request.correlationId,
      reply: { correlationId: request.correlationId, echo: request.text, pid: Deno.pid },
    };
  },
});
Deno.addSignalListener("SIGTERM", async () => {
  await server.close();
  await bus.close();
  console.log("stopped");
  Deno.exit(0);
});
console.log("ready");
