/**
 * The tool catalog: each tools node publishes the definitions of the tools it serves, built from
 * its real settings, on a compacted topic (keyed by service); routers read it before their first
 * decision, offer exactly those definitions, and follow the topic so a tools node restarted with
 * other settings (a fee, shorts, leverage) is described from the next decision on. One source of
 * truth for what a tool does and costs, whichever process serves it.
 */

import type { Bus, BusRecord, Subscription } from "../bus/bus.ts";
import { decodeRecord, publishMessages } from "../bus/messages.ts";
import { type ArenaTopics, arenaTopics } from "../bus/topics.ts";
import type { ToolDefinition } from "../contracts/chat.ts";
import type { DeskTerms } from "../contracts/desk.ts";
import { ToolCatalog } from "../contracts/tool_catalog.ts";
import type { Logger } from "../log.ts";

/** Catalog key of the trading tools (execute_trade, get_portfolio, calculator). */
export const TRADING_TOOLS_SERVICE = "trading";

/** Options for {@linkcode publishToolCatalog}. */
export interface PublishToolCatalogOptions {
  /** The arena's topics (default no prefix). */
  topics?: ArenaTopics;
  /** Catalog key: the tools service (default `trading`). */
  service?: string;
  /** The terms its trading tools fill on (published beside the definitions). */
  desk?: DeskTerms;
}

/** What routers offer: the merged tools of every catalog, and the trading desk's terms. */
export interface OfferedTools {
  /** The tools, services in first-publish order (a name stated twice: the first). */
  tools: ToolDefinition[];
  /** The terms of the first catalog that states them (absent before any trading catalog). */
  desk?: DeskTerms;
}

/** Publishes the definitions a tools node serves, replacing its previous catalog. */
export async function publishToolCatalog(
  bus: Bus,
  tools: ToolDefinition[],
  options: PublishToolCatalogOptions = {},
): Promise<void> {
  const topic = (options.topics ?? arenaTopics()).toolCatalog;
  const service = options.service ?? TRADING_TOOLS_SERVICE;
  await bus.ensureTopics([topic]);
  const catalog: ToolCatalog = {
    v: 1,
    service,
    tools,
    ...(options.desk ? { desk: options.desk } : {}),
    time: new Date().toISOString(),
  };
  await publishMessages(bus, topic.topic, [{ key: service, message: ToolCatalog.parse(catalog) }]);
}

/** Options for {@linkcode readToolCatalog}. */
export interface ReadToolCatalogOptions {
  /** The arena's topics (default no prefix). */
  topics?: ArenaTopics;
  /** Where the wait and invalid catalogs are logged. */
  log: Logger;
  /** Stops waiting (the read rejects). */
  signal?: AbortSignal;
  /** Poll interval while no tools node has published (default 250 ms). */
  pollMs?: number;
}

/**
 * The tools every tools node serves, from the last catalog of each service (services in the
 * order they first published, tools in their catalog's order). Waits, logging once, until a
 * tools node has published; a tool named by two services is offered as the first one states it.
 */
export async function readToolCatalog(
  bus: Bus,
  options: ReadToolCatalogOptions,
): Promise<OfferedTools> {
  const topic = (options.topics ?? arenaTopics()).toolCatalog;
  await bus.ensureTopics([topic]);
  let waited = false;
  const started = Date.now();
  for (;;) {
    const offered = await readOnce(bus, topic.topic, options.log);
    const tools = offered.tools;
    if (tools.length > 0) {
      if (waited) {
        options.log.notice("Tool catalog received", {
          topic: topic.topic,
          tools: tools.map((tool) => tool.name),
          waitedMs: Date.now() - started,
        });
      }
      return offered;
    }
    if (!waited) {
      waited = true;
      options.log.notice(
        `Waiting for a tools node to publish its tool catalog on ${topic.topic} ` +
          "(start the tools service with the same --topic-prefix)",
      );
    }
    options.signal?.throwIfAborted();
    await sleep(options.pollMs ?? 250, options.signal);
  }
}

/** Options for {@linkcode followToolCatalog}. */
export interface FollowToolCatalogOptions {
  /** The arena's topics (default no prefix). */
  topics?: ArenaTopics;
  /** Where invalid catalogs are logged. */
  log: Logger;
  /** Called with the merged tools and terms whenever a catalog record changes them. */
  onTools(offered: OfferedTools): void;
}

/**
 * Follows the catalog topic from its start with a private consumer group and reports the merged
 * tools each time a published catalog changes them (a repeat of the same definitions is quiet).
 */
export async function followToolCatalog(
  bus: Bus,
  options: FollowToolCatalogOptions,
): Promise<Subscription> {
  const topic = (options.topics ?? arenaTopics()).toolCatalog;
  await bus.ensureTopics([topic]);
  const latest = new Map<string, ToolCatalog>();
  let known = "";
  return await bus.subscribe({
    groupId: `tool_catalog.follower.${crypto.randomUUID().slice(0, 8)}`,
    topics: [topic.topic],
    fromBeginning: true,
    handler: (record) => {
      if (takeCatalog(latest, record, { topic: topic.topic, log: options.log })) {
        const offered = mergedTools(latest);
        const text = JSON.stringify(offered);
        if (text !== known) {
          known = text;
          options.onTools(offered);
        }
      }
      return Promise.resolve();
    },
  });
}

/** Keeps a valid catalog record as its service's latest; logs and skips an invalid one. */
function takeCatalog(
  latest: Map<string, ToolCatalog>,
  record: BusRecord,
  options: { topic: string; log: Logger },
): boolean {
  const decoded = decodeRecord(ToolCatalog, record);
  if (decoded.ok) latest.set(decoded.message.service, decoded.message);
  else {
    options.log.warn("Skipping an invalid tool catalog", {
      topic: options.topic,
      reason: decoded.reason,
    });
  }
  return decoded.ok;
}

/** Reads the catalog topic to its end: the last valid catalog per service, merged. */
async function readOnce(bus: Bus, topic: string, log: Logger): Promise<OfferedTools> {
  const latest = new Map<string, ToolCatalog>();
  await bus.readAll(topic, (record) => {
    takeCatalog(latest, record, { topic, log });
    return Promise.resolve();
  });
  return mergedTools(latest);
}

/** The tools of every service's catalog: services in first-publish order, first statement wins. */
function mergedTools(latest: ReadonlyMap<string, ToolCatalog>): OfferedTools {
  const tools = new Map<string, ToolDefinition>();
  let desk: DeskTerms | undefined;
  for (const catalog of latest.values()) {
    desk ??= catalog.desk;
    for (const tool of catalog.tools) {
      if (!tools.has(tool.name)) tools.set(tool.name, tool);
    }
  }
  return { tools: [...tools.values()], ...(desk ? { desk } : {}) };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener("abort", abort, { once: true });
  });
}
