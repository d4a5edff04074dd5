/**
 * What the model sees: the exact request of an agent's first model call at a replay tick, taken
 * from the real pipeline (replay in lockstep, router, chat node, tools, ledger on an in-memory bus)
 * with a model that records it and holds on every tick. The agent is fresh at that tick: its
 * starting portfolio and no memory of earlier decisions.
 */

import type { DecisionProtocol } from "../agents/decision.ts";
import type { Strategy } from "../agents/strategies.ts";
import { MemoryBus } from "../bus/memory_bus.ts";
import type { ReplaySource } from "../connector/replay.ts";
import type { Logger } from "../log.ts";
import type { MarketMask } from "../market/mask.ts";
import type { PromptFormat } from "../market/prompt.ts";
import type { ModelProvider, ModelRequest, ModelResponse } from "../runtime/model_provider.ts";
import { runArena } from "./arena.ts";

/** Options for {@linkcode captureFirstCall}. */
export interface CaptureFirstCallOptions {
  /** The replay data. */
  source: ReplaySource;
  /** The tick whose first model call is wanted (1 is the first snapshot). */
  tick: number;
  /** The agent's strategy. */
  strategy: Strategy;
  /** Agent name (default the strategy's name). */
  agent?: string;
  /** Decision protocol (default the tool loop). */
  protocol?: DecisionProtocol;
  /** Market block layout (default compact). */
  promptFormat?: PromptFormat;
  /** Market seconds between snapshots (default 60). */
  intervalSeconds?: number;
  /** Mask of the replay, when the run is masked. */
  mask?: MarketMask;
  /** Where the pipeline logs. */
  log: Logger;
}

/** A model that records the first call at one tick and holds everywhere. */
class CapturingModel implements ModelProvider {
  readonly model = "capture";
  captured: ModelRequest | undefined;
  readonly #tick: number;

  constructor(tick: number) {
    this.#tick = tick;
  }

  complete(request: ModelRequest): Promise<ModelResponse> {
    if (request.snapshot?.tick === this.#tick && this.captured === undefined) {
      this.captured = structuredClone(request);
    }
    const content = request.responseFormat
      ? JSON.stringify({ reasoning: "holding", decisions: [] })
      : "Reasoning: holding.";
    return Promise.resolve({
      message: { role: "assistant", content, toolCalls: [] },
      usage: { promptTokens: 0, completionTokens: 0 },
      model: this.model,
    });
  }
}

/** Runs the replay to `tick` and returns the request of the agent's first model call there. */
export async function captureFirstCall(options: CaptureFirstCallOptions): Promise<ModelRequest> {
  if (!Number.isInteger(options.tick) || options.tick < 1) {
    throw new Error(`Tick must be a whole number of 1 or more, got ${options.tick}`);
  }
  const model = new CapturingModel(options.tick);
  const bus = new MemoryBus();
  try {
    const result = await runArena(bus, {
      agents: [{ name: options.agent ?? options.strategy.name, strategy: options.strategy }],
      models: [{ provider: model }],
      market: {
        kind: "replay",
        source: options.source,
        intervalSeconds: options.intervalSeconds,
        lockstep: true,
        maxTicks: options.tick,
        mask: options.mask,
      },
      protocol: options.protocol,
      promptFormat: options.promptFormat,
      memoryDecisions: 0,
      log: options.log,
    });
    if (!model.captured) {
      throw new Error(
        `The replay has ${result.ticks} ticks at this interval; ask for --tick ${result.ticks} or less`,
      );
    }
    return model.captured;
  } finally {
    await bus.close();
  }
}

/** The request as text: each message under its role, then the tools or the response format. */
export function formatModelRequest(request: ModelRequest): string {
  const lines: string[] = [];
  for (const message of request.messages) {
    lines.push(`----- ${message.role} -----`, message.content ?? "", "");
  }
  if (request.responseFormat) {
    lines.push(
      `----- response_format: json_schema ${request.responseFormat.name} (strict) -----`,
      JSON.stringify(request.responseFormat.schema),
    );
  } else {
    for (const tool of request.tools) {
      lines.push(
        `----- tool ${tool.name} -----`,
        tool.description,
        JSON.stringify(tool.parameters),
      );
    }
  }
  return lines.join("\n");
}
