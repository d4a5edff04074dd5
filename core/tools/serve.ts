/** Serves tool specs on the bus: `tool_node.<tool>.request` in, ToolCallResult to replyTo. */

import type { Bus, Subscription } from "../bus/bus.ts";
import { serveRequests } from "../bus/request_reply.ts";
import { toolRequestTopic } from "../bus/topics.ts";
import { ToolCallRequest, type ToolCallResult } from "../contracts/tools.ts";
import type { Logger } from "../log.ts";
import type { ToolOutcome, ToolSpec } from "../runtime/tool_spec.ts";

/** Options for {@linkcode serveTools}. */
export interface ServeToolsOptions {
  /** Consumer group prefix shared by the replicas (default `tools`); each tool gets
   * `<groupId>.<tool>`, so partitions of every tool topic are spread over the replicas. */
  groupId?: string;
  /** Prefix of every topic name (isolates test runs; default none). */
  topicPrefix?: string;
  /** Partitions handled at once per tool (default 8). */
  concurrency?: number;
  /** Where requests and failures are logged. */
  log: Logger;
}

/** Validates the model's JSON arguments against the tool's schema and runs it. */
export async function runTool(
  spec: ToolSpec,
  request: Pick<ToolCallRequest, "arguments" | "context">,
): Promise<ToolOutcome> {
  let json: unknown;
  try {
    json = request.arguments.trim() === "" ? {} : JSON.parse(request.arguments);
  } catch (error) {
    return {
      ok: false,
      content: `Arguments must be a JSON object, got invalid JSON (${(error as Error).message})`,
    };
  }
  const parsed = spec.input.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5)
      .map((issue) => `${issue.path.join(".") || "arguments"}: ${issue.message}`)
      .join("; ");
    return { ok: false, content: `Invalid arguments for ${spec.name}: ${issues}` };
  }
  return await spec.run(parsed.data, request.context);
}

/** Serves each tool on its request topic; one consumer group shared by every replica. */
export async function serveTools(
  bus: Bus,
  specs: ToolSpec[],
  options: ServeToolsOptions,
): Promise<Subscription[]> {
  const prefix = options.topicPrefix ?? "";
  const subscriptions: Subscription[] = [];
  for (const spec of specs) {
    subscriptions.push(
      await serveRequests(bus, {
        groupId: `${options.groupId ?? "tools"}.${spec.name}`,
        topic: prefix + toolRequestTopic(spec.name),
        schema: ToolCallRequest,
        log: options.log,
        concurrency: options.concurrency ?? 8,
        handle: async (request) => {
          const outcome = await runTool(spec, request);
          const result: ToolCallResult = {
            v: 1,
            correlationId: request.correlationId,
            toolCallId: request.context.toolCallId,
            tool: spec.name,
            agent: request.context.agent,
            ok: outcome.ok,
            content: outcome.content,
          };
          return { replyTo: request.replyTo, key: request.context.agent, reply: result };
        },
      }),
    );
  }
  return subscriptions;
}
