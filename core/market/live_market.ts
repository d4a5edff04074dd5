/** The live market state machine: applies received frames and candles, builds snapshots. */

import type { MarketSnapshot, PriceTick } from "../contracts/market.ts";
import { CandleBook } from "./candle_book.ts";
import { isoTime } from "./clock.ts";
import { parseCandlesBody, parseFrame } from "./coinbase.ts";
import { PriceBook } from "./price_book.ts";
import { buildSnapshot, priceTickOf } from "./snapshot.ts";

/** Result of applying one WebSocket frame. */
export type FrameOutcome =
  | { kind: "price"; tick: PriceTick }
  | { kind: "ignored" }
  | { kind: "exchange_error"; message: string }
  | { kind: "malformed"; reason: string };

/** Options for {@linkcode LiveMarket}. */
export interface LiveMarketOptions {
  /** Products to track, in snapshot order. */
  productIds: string[];
  /** Publish interval in ms (staleness is 2 x this). */
  intervalMs: number;
  /** `live` for the exchange, `replay` when re-running a recording. */
  source: "live" | "replay";
}

/** Pure state of a live feed: the same code runs live and when replaying a recording. */
export class LiveMarket {
  readonly prices: PriceBook = new PriceBook();
  readonly candles: CandleBook = new CandleBook();
  readonly #options: LiveMarketOptions;
  #tick = 0;
  #malformed = 0;

  /** Starts empty. */
  constructor(options: LiveMarketOptions) {
    this.#options = options;
  }

  /** Malformed frames seen so far. */
  get malformedFrames(): number {
    return this.#malformed;
  }

  /** Applies one WebSocket frame received at market time `atMs`. */
  applyFrame(text: string, atMs: number): FrameOutcome {
    const frame = parseFrame(text);
    switch (frame.kind) {
      case "malformed":
        this.#malformed++;
        return frame;
      case "error":
        return { kind: "exchange_error", message: frame.message };
      case "ticker": {
        if (!this.#options.productIds.includes(frame.productId)) {
          this.#malformed++;
          return { kind: "malformed", reason: `Ticker for unsubscribed ${frame.productId}` };
        }
        const ticker = { ...frame.ticker, time: isoTime(atMs) };
        this.prices.update(frame.productId, ticker, atMs);
        return {
          kind: "price",
          tick: {
            v: 1,
            productId: frame.productId,
            price: ticker.price,
            bestBid: ticker.bestBid,
            bestAsk: ticker.bestAsk,
            time: ticker.time,
            stale: false,
          },
        };
      }
      default:
        return { kind: "ignored" };
    }
  }

  /** Applies a REST candles body of one product and granularity; throws on a bad body. */
  applyCandles(productId: string, granularity: number, body: string): void {
    this.candles.upsert(productId, granularity, parseCandlesBody(body));
  }

  /** The next snapshot at market time `nowMs` plus price ticks of stale products. */
  publishable(nowMs: number): { snapshot?: MarketSnapshot; staleTicks: PriceTick[] } {
    this.candles.prune(Math.floor(nowMs / 1000));
    const snapshot = buildSnapshot(
      { prices: this.prices, candles: this.candles },
      {
        tick: this.#tick + 1,
        nowMs,
        intervalMs: this.#options.intervalMs,
        productIds: this.#options.productIds,
        source: this.#options.source,
      },
    );
    if (!snapshot) return { staleTicks: [] };
    this.#tick++;
    const staleTicks = snapshot.products.filter((product) => product.stale).map(priceTickOf);
    return { snapshot, staleTicks };
  }
}
