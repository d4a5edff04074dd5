/**
 * A fake Coinbase Exchange on 127.0.0.1 for tests: a real WebSocket feed (`ticker_batch`
 * shapes) and REST endpoints (`/products/{id}`, `/products/{id}/candles`), streaming a candle
 * file as tickers and misbehaving on command (drop, garbage, stall, 429, 5xx).
 */

import type { Candle } from "../core/contracts/market.ts";
import { aggregateCandles, type ProductCandles } from "../core/market/candles.ts";

/** Options for {@linkcode FakeExchange.start}. */
export interface FakeExchangeOptions {
  /** Products the exchange lists, with 1-minute candles to stream and serve. */
  products: ProductCandles[];
  /** Milliseconds between ticker rounds (one ticker per subscribed product); default 50. */
  tickerIntervalMs?: number;
}

interface Client {
  socket: WebSocket;
  productIds: string[];
}

/** The fake exchange; always {@linkcode FakeExchange.close} it at the end of a test. */
export class FakeExchange {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #products = new Map<string, Candle[]>();
  readonly #clients = new Set<Client>();
  readonly #timer: ReturnType<typeof setInterval>;
  /** Seconds added to candle times so the data ends "now" on the wall clock. */
  readonly timeShift: number;
  #cursor = 0;
  #stalled = false;
  #rejectNext: { status: number; count: number } = { status: 429, count: 0 };
  /** WebSocket connections accepted so far. */
  connections = 0;
  /** Subscribe messages received, in order. */
  subscriptions: { product_ids: string[]; channels: string[] }[] = [];
  /** Every REST request as `status path`, in order. */
  restLog: string[] = [];
  /** Tickers sent so far. */
  tickersSent = 0;

  private constructor(options: FakeExchangeOptions) {
    for (const product of options.products) this.#products.set(product.productId, product.candles);
    // The data is shifted so that 4 h after its first candle is "now": full windows at once.
    const dataStart = Math.min(...options.products.map((product) => product.candles[0]!.time));
    this.timeShift = Math.floor(Date.now() / 60_000) * 60 - (dataStart + 4 * 3600);
    this.#cursor = 4 * 60;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => this.#handle(request),
    );
    this.#timer = setInterval(() => this.#tickerRound(), options.tickerIntervalMs ?? 50);
  }

  /** Starts the server on a free port. */
  static start(options: FakeExchangeOptions): FakeExchange {
    return new FakeExchange(options);
  }

  /** `ws://127.0.0.1:<port>` */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.#server.addr.port}`;
  }

  /** `http://127.0.0.1:<port>` */
  get restUrl(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /** The flags that point a connector or the arena at this exchange (`--ws-url`, `--rest-url`). */
  get serviceFlags(): string[] {
    return ["--ws-url", this.wsUrl, "--rest-url", this.restUrl];
  }

  /** Open WebSocket connections. */
  get openSockets(): number {
    return [...this.#clients].filter((client) => client.socket.readyState === WebSocket.OPEN)
      .length;
  }

  /** Drops every WebSocket connection (as the exchange does now and then). */
  dropConnections(): void {
    for (const client of this.#clients) client.socket.close(1011, "dropped by test");
  }

  /** Sends a raw text frame to every connection. */
  sendRaw(text: string): void {
    for (const client of this.#clients) {
      if (client.socket.readyState === WebSocket.OPEN) client.socket.send(text);
    }
  }

  /** Stops (true) or resumes (false) the ticker stream without closing connections. */
  stall(stalled: boolean): void {
    this.#stalled = stalled;
  }

  /** Answers the next `count` REST requests with `status` (429 by default). */
  rejectNext(count: number, status = 429): void {
    this.#rejectNext = { status, count };
  }

  /** The ticker frame the exchange would send for a product at a candle. */
  tickerFrame(productId: string, candle: Candle): string {
    return JSON.stringify({
      type: "ticker",
      sequence: 1000 + this.tickersSent,
      product_id: productId,
      price: candle.close,
      open_24h: candle.open,
      volume_24h: candle.volume,
      low_24h: candle.low,
      high_24h: candle.high,
      volume_30d: candle.volume,
      best_bid: candle.low,
      best_bid_size: "0.5",
      best_ask: candle.high,
      best_ask_size: "0.5",
      side: "buy",
      time: new Date().toISOString(),
      trade_id: 1 + this.tickersSent,
      last_size: "0.01",
    });
  }

  /** Stops streaming, closes connections and the server. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    for (const client of this.#clients) client.socket.close();
    await this.#server.shutdown();
  }

  #tickerRound(): void {
    if (this.#stalled) return;
    for (const client of this.#clients) {
      if (client.socket.readyState !== WebSocket.OPEN) continue;
      for (const productId of client.productIds) {
        const candles = this.#products.get(productId)!;
        const candle = candles[this.#cursor % candles.length]!;
        client.socket.send(this.tickerFrame(productId, candle));
        this.tickersSent++;
      }
    }
    this.#cursor++;
  }

  #handle(request: Request): Response {
    const url = new URL(request.url);
    if (request.headers.get("upgrade") === "websocket") return this.#upgrade(request);
    if (this.#rejectNext.count > 0) {
      this.#rejectNext.count--;
      const status = this.#rejectNext.status;
      this.restLog.push(`${status} ${url.pathname}`);
      return Response.json({ message: status === 429 ? "Slow down" : "Internal error" }, {
        status,
      });
    }
    const candlesMatch = /^\/products\/([^/]+)\/candles$/.exec(url.pathname);
    const productMatch = /^\/products\/([^/]+)$/.exec(url.pathname);
    const productId = decodeURIComponent((candlesMatch ?? productMatch)?.[1] ?? "");
    const candles = this.#products.get(productId);
    if (!candles) {
      this.restLog.push(`404 ${url.pathname}`);
      return Response.json({ message: "NotFound" }, { status: 404 });
    }
    this.restLog.push(`200 ${url.pathname}`);
    if (productMatch) {
      return Response.json({
        id: productId,
        base_currency: productId.split("-")[0],
        quote_currency: productId.split("-")[1],
        quote_increment: "0.01",
        base_increment: "0.00000001",
        min_market_funds: "1",
        status: "online",
      });
    }
    return this.#candles(candles, url.searchParams);
  }

  #candles(candles: Candle[], params: URLSearchParams): Response {
    const granularity = Number(params.get("granularity"));
    if (![60, 300, 900, 3600, 21600, 86400].includes(granularity)) {
      return Response.json({ message: "Unsupported granularity" }, { status: 400 });
    }
    const start = Date.parse(params.get("start") ?? "") / 1000 - this.timeShift;
    const end = Date.parse(params.get("end") ?? "") / 1000 - this.timeShift;
    const inRange = candles.filter((c) => c.time >= start - granularity && c.time <= end + 60);
    const rows = aggregateCandles(inRange, granularity)
      .filter((c) => c.time >= start && c.time <= end)
      .slice(-300)
      .reverse()
      .map((c) =>
        `[${c.time + this.timeShift},${c.low},${c.high},${c.open},${c.close},${c.volume}]`
      );
    return new Response(`[${rows.join(",")}]`, {
      headers: { "content-type": "application/json" },
    });
  }

  #upgrade(request: Request): Response {
    const { socket, response } = Deno.upgradeWebSocket(request);
    const client: Client = { socket, productIds: [] };
    socket.onopen = () => {
      this.connections++;
      this.#clients.add(client);
    };
    socket.onmessage = (event) => {
      let message: { type?: string; product_ids?: string[]; channels?: string[] };
      try {
        message = JSON.parse(String(event.data));
      } catch {
        socket.send(JSON.stringify({ type: "error", message: "Failed to parse message" }));
        return;
      }
      if (message.type !== "subscribe") return;
      const ids = message.product_ids ?? [];
      this.subscriptions.push({ product_ids: ids, channels: message.channels ?? [] });
      client.productIds = ids.filter((id) => this.#products.has(id));
      socket.send(JSON.stringify({
        type: "subscriptions",
        channels: [{ name: "ticker_batch", product_ids: client.productIds }],
      }));
    };
    socket.onclose = () => this.#clients.delete(client);
    socket.onerror = () => {};
    return response;
  }
}
