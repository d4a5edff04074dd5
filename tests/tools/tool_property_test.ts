import assert from "node:assert/strict";
import fc from "fast-check";
import { MemoryBus } from "../../core/bus/memory_bus.ts";
import { encodeMessage } from "../../core/bus/messages.ts";
import { PRICE_TOPIC } from "../../core/bus/topics.ts";
import { snapshotAccount } from "../../core/ledger/account.ts";
import { reconcile } from "../../core/ledger/portfolio.ts";
import { executeTradeTool, LedgerService } from "../../core/tools/mod.ts";
import { invokeTool } from "../../core/runtime/tool_node.ts";
import { context, priceTick, quietLog } from "./_support.ts";

const argumentsText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      product_id: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom("BTC-USD", "sol-usd", "FARTCOIN-USD") },
        { weight: 1, arbitrary: fc.constantFrom("XYZ-USD", "", "BTC") },
      ),
      quantity: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom("0.01", "1", "0.5", "12.3", 0.2, 3) },
        { weight: 1, arbitrary: fc.double() },
        {
          weight: 1,
          arbitrary: fc.constantFrom("-2", "1e3", "NaN", "0.000000001", "lots", "1e999"),
        },
      ),
      action: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom("buy", "sell") },
        { weight: 1, arbitrary: fc.constantFrom("BUY", " sell ", "hold") },
      ),
    }).map((value) => JSON.stringify(value)),
  },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

Deno.test("random tool calls through the tool layer keep the books and rebuild identically", async () => {
  let calls = 0;
  let executed = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(argumentsText, { minLength: 30, maxLength: 60, size: "max" }), async (
      inputs,
    ) => {
      const bus = new MemoryBus();
      await bus.publish(PRICE_TOPIC, [
        {
          key: "BTC-USD",
          value: encodeMessage(priceTick("BTC-USD", { bid: "4650", ask: "4652.69" })),
        },
        {
          key: "SOL-USD",
          value: encodeMessage(priceTick("SOL-USD", { bid: "3.33", ask: "3.37" })),
        },
        {
          key: "FARTCOIN-USD",
          value: encodeMessage(priceTick("FARTCOIN-USD", { bid: "0.5", ask: "0.51" })),
        },
      ]);
      const live = await LedgerService.start(bus, { log: quietLog() });
      const tool = executeTradeTool(live);
      try {
        for (const [index, text] of inputs.entries()) {
          calls++;
          const agent = ["a", "b"][index % 2]!;
          const outcome = await invokeTool(tool as never, {
            arguments: text,
            context: context(agent, `c${index}`),
          });
          assert.equal(typeof outcome.content, "string");
          if (outcome.ok) executed++;
          else assert.ok(outcome.content.length > 10);
        }
        const rebuilt = await LedgerService.start(bus, { log: quietLog() });
        try {
          assert.equal(rebuilt.state.accounts.size, live.state.accounts.size);
          for (const [agent, account] of live.state.accounts) {
            assert.deepEqual(reconcile(account).problems, []);
            assert.deepEqual(
              snapshotAccount(rebuilt.state.accounts.get(agent)!),
              snapshotAccount(account),
            );
          }
        } finally {
          await rebuilt.close();
        }
      } finally {
        await live.close();
        await bus.close();
      }
    }),
    { numRuns: 40, seed: 7 },
  );
  assert.ok(calls >= 1_000, `expected over a thousand tool calls, got ${calls}`);
  assert.ok(executed >= 100, `expected many executed trades, got ${executed}`);
});
