/** Shared builders for ledger tests. */

import type { LedgerEvent } from "../../core/contracts/ledger.ts";
import type { PriceTick } from "../../core/contracts/market.ts";
import { accountOpenedEvent, applyEvent, type LedgerState } from "../../core/ledger/mod.ts";

/** When the fixtures' quotes and accounts are dated. */
const FIXTURE_TIME = "2017-09-03T12:00:00.000Z";

/** A fresh price tick for a product. */
export function tick(
  productId: string,
  options: { bid: string; ask: string; time?: string; stale?: boolean },
): PriceTick {
  return {
    v: 1,
    productId,
    price: options.bid,
    bestBid: options.bid,
    bestAsk: options.ask,
    time: options.time ?? FIXTURE_TIME,
    stale: options.stale ?? false,
  };
}

/** Opens an account with `cash` for each agent in `state`; returns the events, in order. */
export function openAccounts(
  state: LedgerState,
  options: { agents: readonly string[]; cash: string },
): LedgerEvent[] {
  return options.agents.map((agent) => {
    const opened = accountOpenedEvent(agent, { cash: options.cash, time: FIXTURE_TIME });
    applyEvent(state, opened);
    return opened;
  });
}
