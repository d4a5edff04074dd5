/** ToolNode: serves one ToolSpec on `tool_node.<tool>.request`, answering to each reply-to topic. */

import { z } from "zod";
import type { Bus, Subscription } from "../bus/bus.ts";
import { serveRequests } from "../bus/request_reply.ts";
import { arenaTopics } from "../bus/topics.ts";
import type { ToolContext } from "../contracts/tools.ts";
import { ToolCallRequest, type ToolCallResult } from "../contracts/tools.ts";
import type { Logger } from "../log.ts";
import type { ToolOutcome, ToolSpec } from "./tool_spec.ts";
import { isExpired } from "./_expiry.ts";

/** Longest error text a model reads from a failed tool, in characters. */
const ERROR_TEXT_LIMIT = 600;
/** Longest JSON Schema excerpt quoted back to the model after invalid arguments. */
const SCHEMA_HINT_LIMIT = 800;

/** Requests a tool serves at once by default. */
const DEFAULT_TOOL_CONCURRENCY = 64;

/** Options for {@linkcode serveTool}. */
export interface ServeToolOptions {
  /** Where requests, invalid messages and tool failures are logged. */
  log: Logger;
  /** Consumer group shared by the replicas of this tool (default `tool_node.<name>`). */
  groupId?: string;
  /**
   * Requests of different agents handled at once (default 64; one agent's run in order): a
   * request whose reply waits for its acknowledgement holds a slot.
   */
  concurrency?: number;
  /** Prefix of the request topic name (isolated arenas and tests; default none). */
  topicPrefix?: string;
}

/** What a tool call needs: the model's raw JSON arguments and the injected context. */
export interface ToolInvocation {
  /** Raw JSON text from the model; may be invalid. */
  arguments: string;
  /** Who is calling; passed to the tool, never shown to the model. */
  context: ToolContext;
}

/** Shortens a text to `limit` characters, marking the cut. */
function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** The first line of an error's message: never a stack trace. */
function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split("\n", 1)[0]?.trim() ?? "";
  return clip(firstLine || "unknown error", ERROR_TEXT_LIMIT);
}

/** A compact JSON Schema of the tool's input, quoted to the model after invalid arguments. */
function schemaHint(spec: ToolSpec): string {
  try {
    const { $schema: _schema, ...schema } = z.toJSONSchema(spec.offered ?? spec.input, {
      io: "input",
    }) as
      & Record<string, unknown>
      & { $schema?: unknown };
    return clip(JSON.stringify(schema), SCHEMA_HINT_LIMIT);
  } catch {
    return "(schema unavailable)";
  }
}

/**
 * Runs one tool call: parses the model's JSON, validates it with the tool's zod schema and runs
 * the tool. Never throws: every failure becomes an `ok: false` outcome the model can read.
 */
export async function invokeTool(spec: ToolSpec, invocation: ToolInvocation): Promise<ToolOutcome> {
  let json: unknown;
  const raw = invocation.arguments.trim();
  try {
    json = raw === "" ? {} : JSON.parse(raw);
  } catch (error) {
    return {
      ok: false,
      content: `Arguments of ${spec.name} must be a JSON object, got invalid JSON (${
        errorText(error)
      }): ${clip(raw, 200)}`,
    };
  }
  const parsed = spec.input.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 6)
      .map((issue) => `${issue.path.join(".") || "arguments"}: ${issue.message}`)
      .join("; ");
    return {
      ok: false,
      content: `Invalid arguments for ${spec.name}: ${issues}. Valid arguments follow this JSON ` +
        `Schema: ${schemaHint(spec)}`,
    };
  }
  try {
    const outcome = await spec.run(parsed.data, invocation.context);
    return { ok: outcome.ok, content: outcome.content };
  } catch (error) {
    return { ok: false, content: `Tool failed: ${errorText(error)}` };
  }
}

/**
 * Serves a tool on the bus. Each request is validated, run with its ToolContext and answered with
 * a ToolCallResult on the request's reply-to topic (keyed by agent) before its offset commits.
 * A request past its `expiresAt` (its caller stopped waiting) is answered without running the tool.
 */
export function serveTool(
  bus: Bus,
  spec: ToolSpec,
  options: ServeToolOptions,
): Promise<Subscription> {
  const log = options.log;
  return serveRequests(bus, {
    groupId: options.groupId ?? `tool_node.${spec.name}`,
    topic: arenaTopics(options.topicPrefix).toolRequest(spec.name).topic,
    schema: ToolCallRequest,
    log,
    concurrency: options.concurrency ?? DEFAULT_TOOL_CONCURRENCY,
    onAssigned: spec.onAssigned && (() => spec.onAssigned?.()),
    handle: async (request) => {
      const expired = isExpired(request.expiresAt);
      if (expired) {
        log.warn("Skipping an expired tool call", {
          tool: spec.name,
          agent: request.context.agent,
          expiresAt: request.expiresAt,
        });
      }
      const outcome: ToolOutcome = expired
        ? {
          ok: false,
          content: `Tool call expired at ${request.expiresAt} before ${spec.name} received it; ` +
            "it was not run",
        }
        : await invokeTool(spec, request);
      if (!outcome.ok) {
        log.info("Tool call failed", {
          tool: spec.name,
          agent: request.context.agent,
          toolCallId: request.context.toolCallId,
          reason: clip(outcome.content, 200),
        });
      }
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
  });
}
