import assert from "node:assert/strict";
import { z } from "zod";
import type { ToolSpec } from "../../core/runtime/tool_spec.ts";
import { testKafkaBus, uniqueName } from "../_kafka.ts";
import { startArena } from "./_arena.ts";
import { answer, callTools } from "./_support.ts";

const quote: ToolSpec = {
  name: "quote",
  description: "Quotes a product",
  input: z.object({ product: z.string() }),
  run: (input: { product: string }, context) =>
    Promise.resolve({ ok: true, content: `${input.product} 4600.00 for ${context.agent}` }),
};

Deno.test({
  name: "on the Kafka bus an agent runs parallel tool calls through chat and tool nodes",
  fn: async () => {
    const bus = testKafkaBus();
    const prefix = `${uniqueName("rt")}.`;
    const agent = uniqueName("agent").replace(".", "-");
    const arena = await startArena({
      bus,
      topicPrefix: prefix,
      chatNodeName: "kafka-test",
      tools: [quote],
      router: { agent, replyTimeoutMs: 20_000 },
      script: (request, call) => {
        if (call % 2 === 0) {
          return callTools([
            ["quote", '{"product":"BTC-USD"}'],
            ["quote", '{"product":"ETH-USD"}'],
            ["no_such_tool", "{}"],
          ]);
        }
        const results = request.messages.filter((message) => message.role === "tool");
        return answer(results.map((message) => message.content).join(" | "));
      },
    });
    try {
      await arena.publish(1);
      await arena.activity.decisions(agent, 1, 30_000);
      await arena.publish(2);
      const decisions = await arena.activity.decisions(agent, 2, 30_000);
      assert.deepEqual(decisions.map((event) => [event.tick, event.outcome, event.steps]), [
        [1, "answered", 2],
        [2, "answered", 2],
      ]);
      const reasoning = arena.activity.of(agent, "reasoning").map((event) => event.text);
      assert.equal(
        reasoning[0],
        `BTC-USD 4600.00 for ${agent} | ETH-USD 4600.00 for ${agent} | ` +
          "Unknown tool no_such_tool; available tools: quote",
      );
      assert.equal(arena.activity.of(agent, "usage").length, 4);
      const memory = arena.model.requests[2]!.messages[1]!.content!;
      assert.match(memory, /^Your last 1 decisions/);
      assert.match(memory, /quote\(\{"product":"BTC-USD"\}\) -> ok/);
    } finally {
      await arena.close();
      await bus.close();
    }
  },
});
