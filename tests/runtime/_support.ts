/** Test support for the agent runtime: a scripted model, snapshots and an activity collector. */

import type { Bus, Subscription } from "../../core/bus/bus.ts";
import { publishMessages, subscribeMessages } from "../../core/bus/messages.ts";
import { arenaTopics } from "../../core/bus/topics.ts";
import { ActivityEvent } from "../../core/contracts/activity.ts";
import type { AssistantMessage, ToolCall } from "../../core/contracts/chat.ts";
import type { MarketSnapshot } from "../../core/contracts/market.ts";
import { createLogger, type Logger } from "../../core/log.ts";
import type {
  ModelProvider,
  ModelRequest,
  ModelResponse,
} from "../../core/runtime/model_provider.ts";

/** A logger that only writes errors (keeps test output readable). */
export function quietLog(): Logger {
  return createLogger("test.runtime", { level: "error" });
}

/** A valid one-product snapshot for `tick`, one market minute per tick. */
export function snapshot(tick: number): MarketSnapshot {
  const time = new Date(Date.UTC(2017, 8, 3, 0, 0) + tick * 60_000).toISOString();
  const price = (4600 + tick).toFixed(2);
  return {
    v: 1,
    tick,
    time,
    source: "replay",
    products: [{
      productId: "BTC-USD",
      ticker: { price, bestBid: price, bestAsk: price, volume24h: "1000", time },
      stale: false,
      candles: { m15: [], m5: [], m1: [] },
    }],
  };
}

/** Publishes snapshots on the (optionally prefixed) market topic. */
export async function publishSnapshots(
  bus: Bus,
  snapshots: MarketSnapshot[],
  topicPrefix = "",
): Promise<void> {
  await publishMessages(
    bus,
    arenaTopics(topicPrefix).snapshots.topic,
    snapshots.map((message) => ({ key: "market", message })),
  );
}

/** An assistant message with tool calls (`[name, argumentsJson]`, ids `call_<n>`). */
export function callTools(
  calls: [string, string][],
  content: string | null = null,
): AssistantMessage {
  const toolCalls: ToolCall[] = calls.map(([name, args], index) => ({
    id: `call_${index + 1}`,
    name,
    arguments: args,
  }));
  return { role: "assistant", content, toolCalls };
}

/** An assistant message that answers without tool calls. */
export function answer(content: string): AssistantMessage {
  return { role: "assistant", content, toolCalls: [] };
}

/** Decides a model turn from the request and the 0-based index of this call. */
export type Script = (
  request: ModelRequest,
  call: number,
) => AssistantMessage | Promise<AssistantMessage>;

/** A scripted model provider: a pure test double for orchestration tests (model id `scripted`). */
export class ScriptedModel implements ModelProvider {
  readonly model = "scripted";
  /** Every request received, in order. */
  readonly requests: ModelRequest[] = [];
  readonly #script: Script;

  constructor(script: Script) {
    this.#script = script;
  }

  /** Runs the script; usage is counted as characters / 4. */
  async complete(request: ModelRequest): Promise<ModelResponse> {
    const call = this.requests.length;
    this.requests.push(structuredClone(request));
    const message = await this.#script(request, call);
    const promptChars = request.messages.reduce((sum, m) => sum + (m.content ?? "").length, 0);
    return {
      message,
      usage: { promptTokens: Math.ceil(promptChars / 4), completionTokens: 10 },
      model: this.model,
    };
  }
}

/** Collects activity events published from now on. */
export class ActivityCollector {
  /** Every event seen, in arrival order. */
  readonly events: ActivityEvent[] = [];
  #subscription?: Subscription;
  #waiters = new Set<() => void>();

  /** Subscribes with a fresh group to the (optionally prefixed) activity topic. */
  static async open(bus: Bus, topicPrefix = ""): Promise<ActivityCollector> {
    const collector = new ActivityCollector();
    collector.#subscription = await subscribeMessages(bus, {
      groupId: `test.activity.${crypto.randomUUID()}`,
      topics: [arenaTopics(topicPrefix).activity.topic],
      schema: ActivityEvent,
      log: quietLog(),
      fromBeginning: false,
      handler: (event) => {
        collector.events.push(event);
        for (const wake of collector.#waiters) wake();
        return Promise.resolve();
      },
    });
    return collector;
  }

  /** Events of one kind for one agent. */
  of<K extends ActivityEvent["kind"]>(
    agent: string,
    kind: K,
  ): Extract<ActivityEvent, { kind: K }>[] {
    return this.events.filter((event): event is Extract<ActivityEvent, { kind: K }> =>
      event.agent === agent && event.kind === kind
    );
  }

  /** Waits until `predicate` holds, failing after `timeoutMs` with `what` in the message. */
  async waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
      }
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      this.#waiters.add(wake);
      const timer = setTimeout(wake, Math.min(left, 100));
      await woken;
      clearTimeout(timer);
      this.#waiters.delete(wake);
    }
  }

  /** Waits for `count` decision events of `agent`. */
  async decisions(
    agent: string,
    count: number,
    timeoutMs = 5_000,
  ): Promise<Extract<ActivityEvent, { kind: "decision" }>[]> {
    await this.waitFor(
      `${count} decisions of ${agent}`,
      () => this.of(agent, "decision").length >= count,
      timeoutMs,
    );
    return this.of(agent, "decision");
  }

  /** Stops collecting. */
  async close(): Promise<void> {
    await this.#subscription?.close();
  }
}

/** A promise with its resolve function, for timing-free barriers. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects after `ms` with a message naming `what` (bounds every wait in a test). */
export async function within<T>(what: string, promise: Promise<T>, ms = 5_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
