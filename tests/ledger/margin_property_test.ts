import assert from "node:assert/strict";
import fc from "fast-check";
import type { LedgerEvent } from "../../core/contracts/ledger.ts";
import {
  applyEvent,
  createLedgerState,
  executeTrade,
  exitTrade,
  exitTrigger,
  moneyString,
  portfolioView,
  rebuildState,
  reconcile,
  snapshotAccount,
} from "../../core/ledger/mod.ts";
import type { PriceTick } from "../../core/contracts/market.ts";
import { openAccounts, tick } from "./_fixtures.ts";

const AGENTS = ["bull", "bear"];
const START = Date.parse("2017-09-03T12:00:00.000Z");

type Step =
  | {
    kind: "trade";
    agent: string;
    action: "buy" | "sell";
    quantity: string;
    leverage?: number;
    stopPct?: number;
    targetPct?: number;
    confidence?: number;
  }
  | { kind: "move"; pct: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("trade" as const),
      agent: fc.constantFrom(...AGENTS),
      action: fc.constantFrom("buy" as const, "sell" as const),
      quantity: fc.integer({ min: 1, max: 4_000 }).map((units) => String(units / 100)),
      leverage: fc.option(fc.integer({ min: 0, max: 25 }), { nil: undefined }),
      stopPct: fc.option(fc.integer({ min: -8, max: 8 }), { nil: undefined }),
      targetPct: fc.option(fc.integer({ min: -8, max: 8 }), { nil: undefined }),
      confidence: fc.option(fc.double({ min: -0.5, max: 1.5, noNaN: true }), { nil: undefined }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("move" as const),
      pct: fc.integer({ min: -1500, max: 1500 }).map((bp) => bp / 100),
    }),
  },
);

Deno.test("random shorts, leverage, stops, targets and liquidations keep the books exact", () => {
  let exits = 0;
  let liquidations = 0;
  let executed = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 100 }),
      fc.array(step, { minLength: 30, maxLength: 90, size: "max" }),
      (takerFeeBps, steps) => {
        const config = { takerFeeBps, slippageBps: 0, allowShort: true, maxLeverage: 20 };
        const state = createLedgerState();
        const events = openAccounts(state, { agents: AGENTS, cash: "100000" });
        const record = (event: LedgerEvent) => {
          events.push(event);
          assert.equal(applyEvent(state, event), "applied");
        };
        let bid = 5000;
        let price: PriceTick = tick("BTC-USD", {
          bid: "5000",
          ask: "5001",
          time: new Date(START).toISOString(),
        });
        steps.forEach((item, index) => {
          const time = new Date(START + (index + 1) * 60_000).toISOString();
          if (item.kind === "move") {
            bid = Math.max(1, Math.round(bid * (1 + item.pct / 100) * 100) / 100);
            price = tick("BTC-USD", { bid: String(bid), ask: String(bid + 1), time });
            for (const agent of AGENTS) {
              const account = state.accounts.get(agent)!;
              const position = account.positions.get("BTC-USD");
              const trigger = position && exitTrigger(position, price);
              if (!position || !trigger) continue;
              const exit = exitTrade(account, position, { trigger, tick: price, config });
              record(exit);
              assert.equal(exit.cashAfter, moneyString(account.cash));
              exits++;
              if (trigger.cause === "liquidation") liquidations++;
            }
          } else {
            const account = state.accounts.get(item.agent)!;
            const closing = item.action === "buy" ? bid : bid + 1;
            const decision = executeTrade(account, {
              agent: item.agent,
              toolCallId: `call-${index}`,
              productId: "BTC-USD",
              action: item.action,
              quantity: item.quantity,
              leverage: item.leverage,
              stopLoss: item.stopPct === undefined
                ? undefined
                : String(Math.round(closing * (1 + item.stopPct / 100))),
              takeProfit: item.targetPct === undefined
                ? undefined
                : String(Math.round(closing * (1 + item.targetPct / 100))),
              confidence: item.confidence,
            }, { price: { ...price, time }, config, time });
            if (decision.ok) {
              record(decision.event);
              assert.equal(decision.event.cashAfter, moneyString(account.cash));
              executed++;
            }
          }
          for (const agent of AGENTS) {
            const account = state.accounts.get(agent)!;
            assert.deepEqual(reconcile(account).problems, []);
            const view = portfolioView(account, { prices: new Map([["BTC-USD", price]]), time });
            assert.ok(!view.equity.startsWith("-"), `equity ${view.equity} is negative`);
          }
        });
        const rebuilt = rebuildState(events);
        for (const agent of AGENTS) {
          assert.deepEqual(
            snapshotAccount(rebuilt.accounts.get(agent)!),
            snapshotAccount(state.accounts.get(agent)!),
          );
        }
      },
    ),
    { numRuns: 400, seed: 1515 },
  );
  assert.ok(executed >= 1_000, `expected many trades, got ${executed}`);
  assert.ok(exits >= 500, `expected many engine exits, got ${exits}`);
  assert.ok(liquidations >= 50, `expected liquidations, got ${liquidations}`);
});
