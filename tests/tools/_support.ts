/** Builders shared by the tools tests. */

import type { Bus, OutgoingRecord } from "../../core/bus/bus.ts";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { encodeMessage, readAllMessages } from "../../core/bus/messages.ts";
import { arenaTopics, LEDGER_TOPIC, PRICE_TOPIC } from "../../core/bus/topics.ts";
import { LedgerEvent } from "../../core/contracts/ledger.ts";
import type { PriceTick } from "../../core/contracts/market.ts";
import {
  type ToolCallRequest,
  ToolCallResult,
  type ToolContext,
} from "../../core/contracts/tools.ts";
import { createLogger, type Logger } from "../../core/log.ts";
import type { ToolSpec } from "../../core/runtime/tool_spec.ts";
import { LedgerService, type LedgerServiceOptions, serveTools } from "../../core/tools/mod.ts";
import { tick as priceTick } from "../ledger/_fixtures.ts";

/** A logger that keeps quiet unless something is wrong. */
export function quietLog(): Logger {
  return createLogger("test", { level: "error" });
}

/** A fresh price tick (the ledger tests' builder). */
export { priceTick };

/** A tool context for an agent and tool call id. */
export function context(agent: string, toolCallId: string): ToolContext {
  return { agent, toolCallId, correlationId: `corr-${toolCallId}` };
}

/** Every event on the bus's ledger topic, in order. */
export async function ledgerEvents(bus: Bus): Promise<LedgerEvent[]> {
  const events: LedgerEvent[] = [];
  await readAllMessages(bus, LEDGER_TOPIC, {
    schema: LedgerEvent,
    log: quietLog(),
    handler: (event) => void events.push(event),
  });
  return events;
}

/** Publishes a price tick on the price topic, keyed by its product. */
export async function publishTick(bus: Bus, tick: PriceTick): Promise<void> {
  await bus.publish(PRICE_TOPIC, [{ key: tick.productId, value: encodeMessage(tick) }]);
}

/** Options for {@linkcode withLedgerService}. */
export interface WithLedgerServiceOptions {
  /** The bus to run on (closed afterwards); default a new MemoryBus. */
  bus?: MemoryBus;
  /** Price ticks published before the service starts; default BTC-USD at 4650 / 4652.69. */
  ticks?: PriceTick[];
  /** Ledger service options besides the quiet log. */
  service?: Omit<LedgerServiceOptions, "log">;
}

/** Runs `fn` with a ledger service on a bus with prices, then closes the service and the bus. */
export async function withLedgerService(
  fn: (bus: MemoryBus, service: LedgerService) => Promise<void>,
  options: WithLedgerServiceOptions = {},
): Promise<void> {
  const bus = options.bus ?? new MemoryBus();
  try {
    const ticks = options.ticks ?? [priceTick("BTC-USD", { bid: "4650", ask: "4652.69" })];
    for (const tick of ticks) await publishTick(bus, tick);
    const service = await LedgerService.start(bus, { ...options.service, log: quietLog() });
    try {
      await fn(bus, service);
    } finally {
      await service.close();
    }
  } finally {
    await bus.close();
  }
}

/** One tool call as an agent's router sends it. */
export interface ToolRequest {
  /** The calling agent; also the record's key. */
  agent: string;
  /** The tool's name, which picks the request topic. */
  tool: string;
  /** The model's tool call id. */
  toolCallId: string;
  /** The request's correlation id (also in its context); default `corr-<toolCallId>`. */
  correlationId?: string;
  /** An object (sent as JSON) or raw text as a model wrote it; default `{}`. */
  arguments?: Record<string, unknown> | string;
  /** Topic the tool node replies on; default `replies`. */
  replyTo?: string;
  /** When the caller stops waiting (ISO time); default never. */
  expiresAt?: string;
}

/** Options for {@linkcode publishToolRequests}. */
export interface PublishToolRequestsOptions {
  /** Topic prefix of the deployment under test; default none. */
  prefix?: string;
}

/** The bus record of a tool request, encoded as a router encodes it. */
function toolRequestRecord(request: ToolRequest): OutgoingRecord {
  const { agent, tool, toolCallId, arguments: args = {}, replyTo = "replies", expiresAt } = request;
  const toolContext = context(agent, toolCallId);
  toolContext.correlationId = request.correlationId ?? toolContext.correlationId;
  const message: ToolCallRequest = {
    v: 1,
    correlationId: toolContext.correlationId,
    replyTo,
    tool,
    arguments: typeof args === "string" ? args : JSON.stringify(args),
    context: toolContext,
    expiresAt,
  };
  return { key: agent, value: encodeMessage(message) };
}

/** Publishes tool requests to their tools' request topics: one batch per topic, in given order. */
export async function publishToolRequests(
  bus: Bus,
  requests: ToolRequest[],
  options: PublishToolRequestsOptions = {},
): Promise<void> {
  const batches = new Map<string, OutgoingRecord[]>();
  for (const request of requests) {
    const topic = arenaTopics(options.prefix).toolRequest(request.tool).topic;
    const batch = batches.get(topic) ?? [];
    batch.push(toolRequestRecord(request));
    batches.set(topic, batch);
  }
  for (const [topic, records] of batches) await bus.publish(topic, records);
}

/** Tools served on a bus, with an inbox on the `replies` topic. */
export interface ServedTools {
  /** Every tool call result the inbox received so far, in order. */
  replies: ToolCallResult[];
  /** Stops the inbox, then the tools. */
  close(): Promise<void>;
}

/** Serves `tools` on the bus and subscribes an inbox to `replies` that keeps every result. */
export async function serveToolsWithInbox(bus: Bus, tools: ToolSpec[]): Promise<ServedTools> {
  const subscriptions = await serveTools(bus, tools, { log: quietLog() });
  const replies: ToolCallResult[] = [];
  const inbox = await bus.subscribe({
    groupId: "inbox",
    topics: ["replies"],
    handler: (record) => {
      replies.push(ToolCallResult.parse(JSON.parse(record.value)));
      return Promise.resolve();
    },
  });
  return {
    replies,
    close: async () => {
      await inbox.close();
      for (const subscription of subscriptions) await subscription.close();
    },
  };
}
