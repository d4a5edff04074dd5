import assert from "node:assert/strict";
import fc from "fast-check";
import type { LedgerEvent } from "../../core/contracts/ledger.ts";
import type { PriceTick } from "../../core/contracts/market.ts";
import {
  applyEvent,
  createLedgerState,
  executeTrade,
  rebuildState,
  reconcile,
  snapshotAccount,
  type TradeConfig,
} from "../../core/ledger/mod.ts";
import { openAccounts, tick } from "./_fixtures.ts";

const AGENTS = ["momentum", "brainrot-daytrader", "scalper"];
const PRODUCTS = ["BTC-USD", "SOL-USD", "FARTCOIN-USD", "DOGE-USD"];

/** A decimal string with up to `decimals` places between min and max units. */
function decimalString(min: number, max: number, decimals: number): fc.Arbitrary<string> {
  return fc.integer({ min: min * 10 ** decimals, max: max * 10 ** decimals }).map((units) => {
    const text = String(units).padStart(decimals + 1, "0");
    const whole = text.slice(0, text.length - decimals);
    const fraction = text.slice(text.length - decimals).replace(/0+$/, "");
    return fraction ? `${whole}.${fraction}` : whole;
  });
}

const quantity: fc.Arbitrary<number | string> = fc.oneof(
  decimalString(0, 3, 8),
  decimalString(0, 50, 1),
  decimalString(0, 30000, 2),
  fc.double({ noDefaultInfinity: false, noNaN: false }),
  fc.constantFrom(
    "NaN",
    "-1",
    "0",
    "1e999",
    "abc",
    "",
    " 1 ",
    "0x10",
    "1,5",
    "1e-9",
    "99999999999999999",
  ),
  fc.string({ maxLength: 12 }),
);

type Command =
  | {
    kind: "trade";
    agent: string;
    productId: string;
    action: "buy" | "sell";
    quantity: number | string;
  }
  | { kind: "price"; productId: string; bid: string; spread: string; stale: boolean };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("trade" as const),
      agent: fc.constantFrom(...AGENTS),
      productId: fc.constantFrom(...PRODUCTS),
      action: fc.constantFrom("buy" as const, "sell" as const),
      quantity,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("price" as const),
      productId: fc.constantFrom("BTC-USD", "SOL-USD", "FARTCOIN-USD"),
      bid: decimalString(0, 60000, 6),
      spread: decimalString(0, 5, 4),
      stale: fc.boolean(),
    }),
  },
);

const config: fc.Arbitrary<TradeConfig> = fc.record({
  takerFeeBps: fc.integer({ min: 0, max: 150 }),
  slippageBps: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 0, max: 100 }),
    fc.constantFrom(0.5, 2.5),
  ),
});

Deno.test("thousands of random trades keep cash, quantities and the books exact", () => {
  let calls = 0;
  let executed = 0;
  fc.assert(
    fc.property(
      config,
      fc.array(command, { minLength: 20, maxLength: 80, size: "max" }),
      (desk, commands) => {
        const state = createLedgerState();
        const events: LedgerEvent[] = openAccounts(state, { agents: AGENTS, cash: "100000" });
        const prices = new Map<string, PriceTick>([
          ["BTC-USD", tick("BTC-USD", { bid: "4650", ask: "4652.69" })],
          ["SOL-USD", tick("SOL-USD", { bid: "3.33", ask: "3.37" })],
        ]);
        commands.forEach((step, index) => {
          if (step.kind === "price") {
            prices.set(
              step.productId,
              tick(step.productId, {
                bid: step.bid,
                ask: String(Number(step.bid) + Number(step.spread)),
                stale: step.stale,
                time: new Date(Date.parse("2017-09-03T12:00:00.000Z") + index * 60_000)
                  .toISOString(),
              }),
            );
            return;
          }
          calls++;
          const account = state.accounts.get(step.agent)!;
          const before = snapshotAccount(account);
          const decision = executeTrade(account, {
            agent: step.agent,
            toolCallId: `call-${index}`,
            productId: step.productId,
            quantity: step.quantity,
            action: step.action,
          }, { price: prices.get(step.productId), config: desk });
          // Pure: deciding never changes the account.
          assert.deepEqual(snapshotAccount(account), before);
          if (decision.ok) {
            executed++;
            events.push(decision.event);
            applyEvent(state, decision.event);
            assert.equal(decision.event.cashAfter, snapshotAccount(account).cash);
          } else {
            assert.ok(decision.reason.length > 10);
          }
          assert.ok(!account.cash.isNegative(), "cash never negative");
          for (const position of account.positions.values()) {
            assert.ok(position.quantity.gt(0), "quantities never negative or zero");
          }
          assert.deepEqual(reconcile(account).problems, []);
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
    { numRuns: 250, seed: 4242 },
  );
  assert.ok(calls >= 5_000, `expected thousands of calls, got ${calls}`);
  assert.ok(executed >= 500, `expected many executed trades, got ${executed}`);
});
