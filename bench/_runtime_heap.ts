/**
 * Heap held by agent routers, run by runtime_bench.ts with `--v8-flags=--expose-gc`: N routers
 * decide 20 ticks on the in-memory bus; heap with the routers alive minus heap after they are
 * stopped and released, divided by N. The bus keeps its records in both measurements.
 */

import { z } from "zod";
import { MemoryBus } from "../core/bus/memory_bus.ts";
import { publishMessages } from "../core/bus/messages.ts";
import { AGENT_INPUT_TOPIC } from "../core/bus/topics.ts";
import type { MarketSnapshot } from "../core/contracts/market.ts";
import { createLogger } from "../core/log.ts";
import { AgentRouter } from "../core/runtime/agent_router.ts";
import { startChatNode } from "../core/runtime/chat_node.ts";
import { serveTool } from "../core/runtime/tool_node.ts";
import { toolDefinition, type ToolSpec } from "../core/runtime/tool_spec.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("Run with --v8-flags=--expose-gc");
const agents = Number(Deno.args[0] ?? "100");
const log = createLogger("bench.heap", { level: "error" });
const quote: ToolSpec = {
  name: "quote",
  description: "Quotes",
  input: z.object({}),
  run: () => Promise.resolve({ ok: true, content: '{"cash":"100000.00","positions":[]}' }),
};

function snapshot(tick: number): MarketSnapshot {
  const time = new Date(Date.UTC(2017, 8, 3) + tick * 60_000).toISOString();
  return {
    v: 1,
    tick,
    time,
    source: "replay",
    products: [{
      productId: "BTC-USD",
      ticker: { price: "4600.00", bestBid: "4600.00", bestAsk: "4600.01", volume24h: "1", time },
      stale: false,
      candles: { m15: [], m5: [], m1: [] },
    }],
  };
}

const bus = new MemoryBus();
const chat = await startChatNode(bus, {
  log,
  provider: {
    model: "bench",
    complete: (request) =>
      Promise.resolve({
        model: "bench",
        usage: { promptTokens: 0, completionTokens: 0 },
        message: request.messages.some((message) => message.role === "tool")
          ? { role: "assistant", content: "Holding: no clear trend. ".repeat(8), toolCalls: [] }
          : {
            role: "assistant",
            content: "Checking.",
            toolCalls: [{ id: "c1", name: "quote", arguments: "{}" }, {
              id: "c2",
              name: "quote",
              arguments: "{}",
            }],
          },
      }),
  },
});
const tool = await serveTool(bus, quote, { log });
gc();
const base = Deno.memoryUsage().heapUsed;
let routers: AgentRouter[] | undefined = [];
for (let i = 0; i < agents; i++) {
  routers.push(
    await AgentRouter.start(bus, {
      agent: `heap-${i}`,
      systemPrompt: "You trade.",
      tools: [toolDefinition(quote)],
      renderPrompt: (market) => `Tick ${market.tick}`,
      log,
    }),
  );
}
for (let tick = 1; tick <= 20; tick++) {
  await publishMessages(bus, AGENT_INPUT_TOPIC, [{ key: "m", message: snapshot(tick) }]);
  const deadline = performance.now() + 60_000;
  while (routers.some((router) => router.stats.lastTick < tick)) {
    if (performance.now() > deadline) throw new Error(`Stuck at tick ${tick}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
gc();
const alive = Deno.memoryUsage().heapUsed;
for (const router of routers) await router.stop();
routers = undefined;
await new Promise((resolve) => setTimeout(resolve, 10));
gc();
const released = Deno.memoryUsage().heapUsed;
await tool.close();
await chat.stop();
await bus.close();
console.log(JSON.stringify({ agents, perAgentBytes: (alive - released) / agents, base }));
