import assert from "node:assert/strict";
import { describeDesk } from "../../core/arena/describe.ts";

Deno.test("describeDesk names the fee, then spot or what the margin desk allows", () => {
  const spot = { takerFeeBps: 60, slippageBps: 0, allowShort: false, maxLeverage: 1 };
  assert.equal(describeDesk(spot), "taker fee 60 bps, spot (long only, no leverage)");
  assert.equal(
    describeDesk({ ...spot, slippageBps: 5, maxLeverage: 3 }),
    "taker fee 60 bps, slippage 5 bps, margin desk (long only, leverage up to 3x)",
  );
  assert.equal(
    describeDesk({ ...spot, takerFeeBps: 0, allowShort: true }),
    "taker fee 0 bps, margin desk (shorts allowed, no leverage)",
  );
});
