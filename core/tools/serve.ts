/** Serves the trading tools with the runtime's ToolNode, one consumer group per tool. */

import type { Bus, Subscription } from "../bus/bus.ts";
import type { Logger } from "../log.ts";
import { serveTool } from "../runtime/tool_node.ts";
import type { ToolSpec } from "../runtime/tool_spec.ts";

/** Options for {@linkcode serveTools}. */
export interface ServeToolsOptions {
  /**
   * Consumer group prefix shared by the replicas: each tool gets `<groupId>.<tool>`, so the
   * partitions of every tool topic are spread over the replicas (default the ToolNode's
   * `tool_node.<tool>`).
   */
  groupId?: string;
  /** Prefix of every topic name (isolated arenas and tests; default none). */
  topicPrefix?: string;
  /** Partitions handled at once per tool (default 8). */
  concurrency?: number;
  /** Where requests and failures are logged. */
  log: Logger;
}

/** Serves each tool on its request topic with a ToolNode. */
export async function serveTools(
  bus: Bus,
  specs: ToolSpec[],
  options: ServeToolsOptions,
): Promise<Subscription[]> {
  const subscriptions: Subscription[] = [];
  for (const spec of specs) {
    subscriptions.push(
      await serveTool(bus, spec, {
        log: options.log,
        groupId: options.groupId === undefined ? undefined : `${options.groupId}.${spec.name}`,
        concurrency: options.concurrency,
        topicPrefix: options.topicPrefix,
      }),
    );
  }
  return subscriptions;
}
