/**
 * A fake OpenAI-compatible chat completions server for tests: real HTTP on 127.0.0.1 (port 0).
 * A test scripts it with a queue of replies (tool calls, several in one reply, invalid JSON
 * arguments, unknown tools, errors with headers such as 429 + Retry-After, 500s, slow replies)
 * or a responder function, and reads back every request it received.
 */

/** A tool call the fake model returns; `arguments` is sent verbatim (may be invalid JSON). */
export interface FakeToolCall {
  /** Tool call id (default `call_<n>`; an empty string omits the id, as some servers do). */
  id?: string;
  /** Tool name (may name a tool that does not exist). */
  name: string;
  /** Raw arguments text. */
  arguments: string;
}

/** One scripted reply. */
export type FakeReply =
  | {
    kind: "message";
    content?: string | null;
    toolCalls?: FakeToolCall[];
    usage?: { promptTokens: number; completionTokens: number };
    /** Wait before answering, in milliseconds (cut short when the server closes). */
    delayMs?: number;
    /** `finish_reason` to report (default `tool_calls` with calls, else `stop`). */
    finishReason?: "stop" | "length" | "tool_calls";
  }
  | {
    kind: "error";
    status: number;
    message?: string;
    headers?: Record<string, string>;
    delayMs?: number;
  };

/** A request the server received. */
export interface RecordedRequest {
  /** Request path, e.g. `/v1/chat/completions`. */
  path: string;
  /** The Authorization header as received. */
  authorization: string | null;
  /** The parsed JSON body. */
  body: {
    model: string;
    messages: Array<Record<string, unknown>>;
    tools?: Array<
      { type: string; function: { name: string; description?: string; parameters?: unknown } }
    >;
    reasoning_effort?: string;
    [key: string]: unknown;
  };
}

/** Options for {@linkcode startFakeOpenAI}. */
export interface FakeOpenAIOptions {
  /** Answers requests when the queue is empty (default: a 500 saying nothing was scripted). */
  responder?: (request: RecordedRequest) => FakeReply;
}

/** A running fake server. */
export interface FakeOpenAI {
  /** Base URL to give the client, e.g. `http://127.0.0.1:40123/v1`. */
  readonly baseURL: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Appends scripted replies, answered in order before the responder. */
  enqueue(...replies: FakeReply[]): void;
  /** Stops the server. */
  close(): Promise<void>;
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** Starts a fake OpenAI-compatible server on 127.0.0.1 with an ephemeral port. */
export function startFakeOpenAI(options: FakeOpenAIOptions = {}): FakeOpenAI {
  const queue: FakeReply[] = [];
  const requests: RecordedRequest[] = [];
  let counter = 0;
  const closing = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      return Response.json({ error: { message: `No route ${req.method} ${path}` } }, {
        status: 404,
      });
    }
    const body = await req.json() as RecordedRequest["body"];
    const recorded: RecordedRequest = {
      path,
      authorization: req.headers.get("authorization"),
      body,
    };
    requests.push(recorded);
    const reply: FakeReply = queue.shift() ?? options.responder?.(recorded) ?? {
      kind: "error",
      status: 500,
      message: "Fake server has no scripted reply",
    };
    if (reply.delayMs) await wait(reply.delayMs, closing.signal);
    if (reply.kind === "error") {
      return Response.json(
        { error: { message: reply.message ?? `Scripted error ${reply.status}`, type: "fake" } },
        { status: reply.status, headers: reply.headers },
      );
    }
    const toolCalls = (reply.toolCalls ?? []).map((call) => ({
      ...(call.id === "" ? {} : { id: call.id ?? `call_${++counter}` }),
      type: "function",
      function: { name: call.name, arguments: call.arguments },
    }));
    return Response.json({
      id: `chatcmpl-${++counter}`,
      object: "chat.completion",
      created: 0,
      model: body.model,
      choices: [{
        index: 0,
        finish_reason: reply.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop"),
        message: {
          role: "assistant",
          content: reply.content ?? null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
      }],
      usage: {
        prompt_tokens: reply.usage?.promptTokens ?? 0,
        completion_tokens: reply.usage?.completionTokens ?? 0,
        total_tokens: (reply.usage?.promptTokens ?? 0) + (reply.usage?.completionTokens ?? 0),
      },
    });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    baseURL: `http://127.0.0.1:${addr.port}/v1`,
    requests,
    enqueue: (...replies) => queue.push(...replies),
    close: () => {
      closing.abort();
      return server.shutdown();
    },
  };
}
