/** Small, hand-checked arena histories for the dashboard tests. */

import type { ActivityEvent } from "../../core/contracts/activity.ts";
import type { AccountOpened, LedgerEvent, TradeExecuted } from "../../core/contracts/ledger.ts";
import type { PriceTick } from "../../core/contracts/market.ts";
import {
  applyDashboardInputs,
  createDashboardState,
  type DashboardInput,
  type DashboardState,
  type DashboardStateOptions,
} from "../../core/dashboard/state.ts";
import { DashboardStore } from "../../core/dashboard/store.ts";

const START = Date.parse("2017-09-03T00:00:00Z");

/** ISO time `minutes` after the fixture start. */
export function at(minutes: number): string {
  return new Date(START + minutes * 60_000).toISOString();
}

/** An account opening with $100,000. */
export function opened(agent: string, minutes = 0): AccountOpened {
  return {
    v: 1,
    type: "account_opened",
    eventId: `open-${agent}`,
    agent,
    cash: "100000",
    time: at(minutes),
  };
}

/** A trade with no fee unless given; cashAfter is not checked by the dashboard. */
export function trade(
  agent: string,
  fields: {
    id: string;
    side: "buy" | "sell";
    productId: string;
    quantity: string;
    price: string;
    minutes: number;
    fee?: string;
    cashAfter?: string;
  },
): TradeExecuted {
  const notional = (Number(fields.quantity) * Number(fields.price)).toFixed(2);
  return {
    v: 1,
    type: "trade_executed",
    eventId: `trade-${fields.id}`,
    agent,
    toolCallId: `call-${fields.id}`,
    productId: fields.productId,
    side: fields.side,
    quantity: fields.quantity,
    fillPrice: fields.price,
    quotePrice: fields.price,
    notional,
    fee: fields.fee ?? "0",
    takerFeeBps: 0,
    slippageBps: 0,
    cashAfter: fields.cashAfter ?? "0",
    time: at(fields.minutes),
  };
}

/** The scalper selling SOL-USD at $18 after the sample hour (it bought 2000 at $20): a live trade. */
export function scalperSell(
  fields: { quantity: string; id?: string; minutes?: number },
): TradeExecuted {
  return trade("scalper", {
    id: fields.id ?? "s2",
    side: "sell",
    productId: "SOL-USD",
    quantity: fields.quantity,
    price: "18",
    minutes: fields.minutes ?? 61,
  });
}

/** A price tick with bid = ask = price. */
export function price(productId: string, value: string, minutes: number): PriceTick {
  return {
    v: 1,
    productId,
    price: value,
    bestBid: value,
    bestAsk: value,
    time: at(minutes),
    stale: false,
  };
}

/** A usage activity event naming the model. */
export function usage(agent: string, model: string, minutes: number): ActivityEvent {
  return {
    v: 1,
    agent,
    kind: "usage",
    model,
    promptTokens: 1200,
    completionTokens: 300,
    costUsd: model === "rules" ? 0 : 0.0125,
    time: at(minutes),
  };
}

/** A reasoning activity event. */
export function reasoning(agent: string, text: string, minutes: number): ActivityEvent {
  return { v: 1, agent, kind: "reasoning", text, time: at(minutes), tick: minutes };
}

/**
 * Three agents over one hour: momentum buys BTC that rises (best), scalper buys SOL that falls
 * (worst), brainrot buys and sells BTC at a small profit. Prices: BTC 4000 -> 4400, SOL 20 -> 18.
 */
export function sampleLedger(): LedgerEvent[] {
  return [
    opened("momentum"),
    opened("brainrot-daytrader"),
    opened("scalper"),
    trade("momentum", {
      id: "m1",
      side: "buy",
      productId: "BTC-USD",
      quantity: "10",
      price: "4000",
      minutes: 1,
      fee: "24",
    }),
    trade("scalper", {
      id: "s1",
      side: "buy",
      productId: "SOL-USD",
      quantity: "2000",
      price: "20",
      minutes: 2,
      fee: "24",
    }),
    trade("brainrot-daytrader", {
      id: "b1",
      side: "buy",
      productId: "BTC-USD",
      quantity: "1",
      price: "4000",
      minutes: 3,
    }),
    trade("brainrot-daytrader", {
      id: "b2",
      side: "sell",
      productId: "BTC-USD",
      quantity: "1",
      price: "4100",
      minutes: 30,
    }),
  ];
}

/** Price ticks over the hour for BTC-USD and SOL-USD. */
export function samplePrices(): PriceTick[] {
  const ticks: PriceTick[] = [];
  for (let minute = 0; minute <= 60; minute += 5) {
    ticks.push(price("BTC-USD", String(4000 + Math.round(minute * 400 / 60)), minute));
    ticks.push(price("SOL-USD", (20 - minute * 2 / 60).toFixed(2), minute));
  }
  return ticks;
}

/** Every sample input in one list: ledger, prices, usage and reasoning. */
export function sampleInputs(): DashboardInput[] {
  return [
    ...sampleLedger().map((event): DashboardInput => ({ kind: "ledger", event })),
    ...samplePrices().map((tick): DashboardInput => ({ kind: "price", tick })),
    ...["momentum", "brainrot-daytrader", "scalper"].map((agent): DashboardInput => ({
      kind: "activity",
      event: usage(agent, "rules", 1),
    })),
    {
      kind: "activity",
      event: reasoning("momentum", "BTC broke above its 20-minute high; buying 10 BTC.", 1),
    },
    { kind: "snapshot", snapshot: { tick: 61, time: at(60), source: "replay" } },
    { kind: "status", status: "live" },
  ];
}

/** A dashboard state that has applied `inputs` in order. */
export function stateOf(
  inputs: DashboardInput[] = [],
  options: DashboardStateOptions = {},
): DashboardState {
  const state = createDashboardState(options);
  applyDashboardInputs(state, inputs);
  return state;
}

/** A dashboard store holding every sample input. */
export function sampleStore(): DashboardStore {
  const store = new DashboardStore();
  for (const input of sampleInputs()) store.apply(input);
  return store;
}

/** A replay-like stream: ticks, trades and snapshots in the order a live dashboard sees them. */
export interface ReplayStream {
  /** Every input in arrival order. */
  inputs: DashboardInput[];
  /** Index in `inputs` after which each tick is complete (a frame can be drawn). */
  frames: number[];
}

/**
 * `minutes` of three products (one tick each per minute: 3 x minutes price ticks) and three agents
 * trading every few minutes. When `lateTrades` is set, each trade arrives after the next minute's
 * prices, as in a fast live replay where the ledger lags the price feed.
 */
export function replayStream(options: { minutes: number; lateTrades?: boolean }): ReplayStream {
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const products: [string, number][] = [["BTC-USD", 4000], ["ETH-USD", 300], ["SOL-USD", 20]];
  const agents = ["momentum", "brainrot-daytrader", "scalper"];
  const held = new Map<string, number>();
  const inputs: DashboardInput[] = [];
  const frames: number[] = [];
  let delayed: DashboardInput[] = [];
  let id = 0;
  for (const agent of agents) inputs.push({ kind: "ledger", event: opened(agent) });
  for (let minute = 0; minute < options.minutes; minute++) {
    const prices = new Map<string, string>();
    for (const product of products) {
      product[1] *= 1 + (random() - 0.5) * 0.01;
      const value = product[1].toFixed(2);
      prices.set(product[0], value);
      inputs.push({ kind: "price", tick: price(product[0], value, minute) });
    }
    inputs.push(...delayed);
    delayed = [];
    inputs.push({
      kind: "snapshot",
      snapshot: { tick: minute, time: at(minute), source: "replay" },
    });
    const trades: DashboardInput[] = [];
    agents.forEach((agent, index) => {
      if (random() > 0.1 * (index + 1)) return;
      const [productId] = products[Math.floor(random() * products.length)]!;
      const key = `${agent}/${productId}`;
      const holding = held.get(key) ?? 0;
      const side = holding > 0 && random() < 0.5 ? "sell" : "buy";
      const fillPrice = prices.get(productId)!;
      const quantity = side === "sell" ? holding : Math.floor(2000 / Number(fillPrice) * 10) / 10;
      if (quantity <= 0) return;
      held.set(key, side === "sell" ? 0 : holding + quantity);
      const event = {
        ...trade(agent, {
          id: `r${id++}`,
          side,
          productId,
          quantity: String(quantity),
          price: fillPrice,
          minutes: minute,
          fee: "1.5",
        }),
        tick: minute,
      };
      trades.push({ kind: "ledger", event });
    });
    if (options.lateTrades) delayed = trades;
    else inputs.push(...trades);
    frames.push(inputs.length - 1);
  }
  inputs.push(...delayed);
  frames.push(inputs.length - 1);
  return { inputs, frames };
}

/**
 * One agent on margin over half an hour, every price tick with the ask $10 over the bid: a 5x
 * BTC short stopped out, a 10x SOL long liquidated $10 past its margin, and a 5x BTC short still
 * open with a target. Cash ends at $93,400; the open short is worth its $4,300 margin plus
 * 5 x (4,300 - 4,260) at the last ask: equity $97,900.
 */
export function marginInputs(): DashboardInput[] {
  const ledger: LedgerEvent[] = [
    opened("hedger"),
    {
      ...trade("hedger", {
        id: "h1",
        side: "sell",
        productId: "BTC-USD",
        quantity: "10",
        price: "4000",
        minutes: 1,
      }),
      position: "short",
      leverage: 5,
      stopLoss: "4200",
    },
    {
      ...trade("hedger", {
        id: "x1",
        side: "buy",
        productId: "BTC-USD",
        quantity: "10",
        price: "4210",
        minutes: 10,
      }),
      toolCallId: "exit:call-h1",
      position: "short",
      cause: "stop_loss",
    },
    {
      ...trade("hedger", {
        id: "h2",
        side: "buy",
        productId: "SOL-USD",
        quantity: "100",
        price: "20",
        minutes: 12,
      }),
      leverage: 10,
    },
    {
      ...trade("hedger", {
        id: "x2",
        side: "sell",
        productId: "SOL-USD",
        quantity: "100",
        price: "17.9",
        minutes: 20,
      }),
      toolCallId: "exit:call-h2",
      cause: "liquidation",
      badDebt: "10",
    },
    {
      ...trade("hedger", {
        id: "h3",
        side: "sell",
        productId: "BTC-USD",
        quantity: "5",
        price: "4300",
        minutes: 25,
      }),
      position: "short",
      leverage: 5,
      takeProfit: "4100",
    },
  ];
  const ticks: PriceTick[] = [];
  for (let minute = 0; minute <= 30; minute += 5) {
    const bid = String(4000 + minute * 250 / 30 | 0);
    ticks.push({ ...price("BTC-USD", bid, minute), bestAsk: String(Number(bid) + 10) });
    ticks.push({ ...price("SOL-USD", String(20 - minute / 10), minute) });
  }
  return [
    ...ledger.map((event): DashboardInput => ({ kind: "ledger", event })),
    ...ticks.map((tick): DashboardInput => ({ kind: "price", tick })),
    { kind: "status", status: "live" },
  ];
}
