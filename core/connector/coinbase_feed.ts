/** The live feed: Coinbase WebSocket tickers + REST candles -> snapshots and price ticks. */

import type { Bus } from "../bus/bus.ts";
import type { PriceTick } from "../contracts/market.ts";
import type { Logger } from "../log.ts";
import { LiveMarket } from "../market/live_market.ts";
import { EmptyWindowWarnings, windowBounds } from "../market/windows.ts";
import type { Recorder } from "./recording.ts";
import { CoinbaseRestClient } from "./rest_client.ts";
import {
  ensureMarketTopics,
  type MarketTopics,
  marketTopics,
  publishPriceTicks,
  publishSnapshot,
} from "./publish.ts";
import { CoinbaseWsClient } from "./ws_client.ts";
import type { BackoffOptions } from "../backoff.ts";

/** Default public endpoints. */
export const DEFAULT_WS_URL = "wss://ws-feed.exchange.coinbase.com";
/** Default public REST endpoint. */
export const DEFAULT_REST_URL = "https://api.exchange.coinbase.com";

/** Options for {@linkcode CoinbaseFeed}. */
export interface CoinbaseFeedOptions {
  /** Bus to publish snapshots and price ticks to. */
  bus: Bus;
  /** Products to follow. */
  productIds: string[];
  /** Seconds between snapshots (60 in the arena; fractions allowed for tests). */
  intervalSeconds: number;
  /** WebSocket URL. */
  wsUrl?: string;
  /** REST base URL. */
  restUrl?: string;
  /** Writes everything received (and each publish moment) when given. */
  recorder?: Recorder;
  /** Reconnect backoff of the WebSocket. */
  backoff?: BackoffOptions;
  /** REST retry backoff. */
  restBackoff?: BackoffOptions;
  /** REST request starts per second (default 8, under the public limit of about 10). */
  restRequestsPerSecond?: number;
  /** WebSocket stall timeout in ms (default 30 s). */
  stallTimeoutMs?: number;
  /** Topic overrides (default the arena's fixed topics). */
  topics?: Partial<MarketTopics>;
  /** Logger. */
  log: Logger;
}

const GRANULARITIES = [900, 300, 60] as const;

/**
 * Live market data: every ticker becomes a price tick at once; every interval the candles are
 * polled and one snapshot holding every product is published. Market time is receive time.
 */
export class CoinbaseFeed {
  readonly #options: CoinbaseFeedOptions;
  readonly #market: LiveMarket;
  readonly #rest: CoinbaseRestClient;
  readonly #ws: CoinbaseWsClient;
  readonly #abort = new AbortController();
  readonly #topics: MarketTopics;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #publishing: Promise<void> = Promise.resolve();
  #cycle: Promise<void> | undefined;
  #snapshots = 0;
  #priceTicks = 0;
  #emptyWindows: EmptyWindowWarnings;

  /** Creates the feed; {@linkcode CoinbaseFeed.start} checks products and connects. */
  constructor(options: CoinbaseFeedOptions) {
    if (!(options.intervalSeconds > 0)) {
      throw new Error(`Publish interval must be positive seconds, got ${options.intervalSeconds}`);
    }
    if (options.productIds.length === 0) throw new Error("At least one product id is needed");
    this.#options = options;
    this.#topics = marketTopics(options.topics);
    const intervalMs = Math.round(options.intervalSeconds * 1000);
    this.#market = new LiveMarket({ productIds: options.productIds, intervalMs, source: "live" });
    const log = options.log;
    this.#emptyWindows = new EmptyWindowWarnings(log);
    this.#rest = new CoinbaseRestClient({
      baseUrl: options.restUrl ?? DEFAULT_REST_URL,
      backoff: options.restBackoff,
      maxRequestsPerSecond: options.restRequestsPerSecond,
      log: log.child("rest"),
    });
    this.#ws = new CoinbaseWsClient({
      url: options.wsUrl ?? DEFAULT_WS_URL,
      productIds: options.productIds,
      backoff: options.backoff,
      stallTimeoutMs: options.stallTimeoutMs,
      log: log.child("ws"),
      onFrame: (text, atMs) => this.#onFrame(text, atMs),
    });
  }

  /** Malformed frames seen so far (counted and logged, never published). */
  get malformedFrames(): number {
    return this.#market.malformedFrames;
  }

  /** Snapshots published so far. */
  get snapshots(): number {
    return this.#snapshots;
  }

  /** Price ticks published so far. */
  get priceTicks(): number {
    return this.#priceTicks;
  }

  /** WebSocket connections made so far. */
  get connects(): number {
    return this.#ws.connects;
  }

  /** The REST client (for its retry count). */
  get rest(): CoinbaseRestClient {
    return this.#rest;
  }

  /**
   * Waits for the exchange (as long as it takes, logging "Waiting for the exchange"), checks the
   * products (unknown id -> error), connects, and starts the publish timer.
   */
  async start(): Promise<void> {
    const intervalMs = Math.round(this.#options.intervalSeconds * 1000);
    await this.#rest.checkProducts(this.#options.productIds, this.#abort.signal);
    await ensureMarketTopics(this.#options.bus, this.#topics);
    this.#options.recorder?.write({
      type: "start",
      at: Date.now(),
      productIds: this.#options.productIds,
      intervalMs,
    });
    this.#ws.start();
    await this.#pollCandles();
    // A fixed cadence: the candle polls inside a cycle do not push later snapshots back.
    let nextAt = Date.now() + intervalMs;
    const schedule = () => {
      this.#timer = setTimeout(() => {
        nextAt = Math.max(nextAt + intervalMs, Date.now());
        this.#cycle = this.#publishCycle().finally(() => {
          if (!this.#abort.signal.aborted) schedule();
        });
      }, Math.max(0, nextAt - Date.now()));
    };
    schedule();
    this.#options.log.info("Live feed started", {
      products: this.#options.productIds,
      intervalSeconds: this.#options.intervalSeconds,
    });
  }

  /** Stops the timer and the WebSocket; waits for in-flight publishes. */
  async close(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#ws.close();
    await this.#cycle;
    await this.#publishing;
  }

  #onFrame(text: string, atMs: number): void {
    this.#options.recorder?.write({ type: "ws", at: atMs, data: text });
    const outcome = this.#market.applyFrame(text, atMs);
    if (outcome.kind === "malformed") {
      this.#options.log.warn("Malformed frame skipped", {
        reason: outcome.reason,
        malformedFrames: this.#market.malformedFrames,
      });
    } else if (outcome.kind === "exchange_error") {
      this.#options.log.error("Exchange reported an error", { message: outcome.message });
    } else if (outcome.kind === "price") {
      this.#enqueue([outcome.tick]);
    }
  }

  #enqueue(ticks: PriceTick[]): void {
    this.#publishing = this.#publishing.then(async () => {
      try {
        await publishPriceTicks(this.#options.bus, ticks, this.#topics);
        this.#priceTicks += ticks.length;
      } catch (error) {
        this.#options.log.error("Publishing price ticks failed", { error });
      }
    });
  }

  async #pollCandles(): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const bounds = windowBounds(now);
    const ranges = { 900: bounds.m15, 300: bounds.m5, 60: bounds.m1 };
    for (const productId of this.#options.productIds) {
      for (const granularity of GRANULARITIES) {
        if (this.#abort.signal.aborted) return;
        const range = ranges[granularity];
        try {
          const body = await this.#rest.candles(productId, {
            granularity,
            start: range.start,
            end: range.end - granularity,
            signal: this.#abort.signal,
          });
          this.#options.recorder?.write({
            type: "rest",
            at: Date.now(),
            productId,
            granularity,
            data: body,
          });
          this.#market.applyCandles(productId, granularity, body);
        } catch (error) {
          if (this.#abort.signal.aborted) return;
          this.#options.log.warn("Candle poll failed; keeping previous candles", {
            productId,
            granularity,
            reason: (error as Error).message,
          });
        }
      }
    }
  }

  async #publishCycle(): Promise<void> {
    await this.#pollCandles();
    if (this.#abort.signal.aborted) return;
    const atMs = Date.now();
    this.#options.recorder?.write({ type: "publish", at: atMs });
    const { snapshot, staleTicks } = this.#market.publishable(atMs);
    if (staleTicks.length > 0) this.#enqueue(staleTicks);
    await this.#publishing;
    if (!snapshot) {
      this.#options.log.warn("No ticker yet for any product; nothing to publish");
      return;
    }
    this.#emptyWindows.check(snapshot);
    try {
      await publishSnapshot(this.#options.bus, snapshot, this.#topics);
      this.#snapshots++;
      this.#options.log.info("Published snapshot", {
        tick: snapshot.tick,
        products: snapshot.products.length,
        stale: snapshot.products.filter((product) => product.stale).map((p) => p.productId),
      });
    } catch (error) {
      this.#options.log.error("Publishing snapshot failed", { error });
    }
  }
}
