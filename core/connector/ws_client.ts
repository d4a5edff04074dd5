/** Coinbase Exchange WebSocket client: subscribes, reconnects with backoff and jitter. */

import type { Logger } from "../log.ts";
import { backoffDelay, type BackoffOptions, sleep } from "../backoff.ts";

/** Options for {@linkcode CoinbaseWsClient}. */
export interface WsClientOptions {
  /** WebSocket URL, e.g. `wss://ws-feed.exchange.coinbase.com`. */
  url: string;
  /** Products to subscribe to. */
  productIds: string[];
  /** Channels (default `ticker_batch`). */
  channels?: string[];
  /** Called with every text frame and its wall-clock receive time. */
  onFrame: (text: string, receivedAtMs: number) => void;
  /** Reconnect backoff (default 500 ms doubling to 30 s, 50 % jitter). */
  backoff?: BackoffOptions;
  /** Reconnect when no frame arrived for this long (default 30 s). */
  stallTimeoutMs?: number;
  /** Connection events. */
  log: Logger;
}

/** Keeps one subscribed WebSocket open until closed. */
export class CoinbaseWsClient {
  readonly #options: WsClientOptions;
  readonly #abort = new AbortController();
  #socket: WebSocket | undefined;
  #loop: Promise<void> | undefined;
  #connects = 0;

  /** Creates the client; call {@linkcode CoinbaseWsClient.start} to connect. */
  constructor(options: WsClientOptions) {
    this.#options = options;
  }

  /** Successful connections so far (1 + reconnects). */
  get connects(): number {
    return this.#connects;
  }

  /** Starts the connect / read / reconnect loop. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Closes the socket and stops reconnecting. */
  async close(): Promise<void> {
    this.#abort.abort();
    this.#socket?.close();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let attempt = 0;
    while (!signal.aborted) {
      const gotFrames = await this.#session();
      if (signal.aborted) break;
      if (gotFrames) attempt = 0;
      const delay = backoffDelay(attempt++, this.#options.backoff);
      this.#options.log.warn("WebSocket closed, reconnecting", { delayMs: delay, attempt });
      await sleep(delay, signal);
    }
  }

  /** One connection; resolves when it ends. True when at least one frame arrived. */
  #session(): Promise<boolean> {
    const { url, productIds, log } = this.#options;
    const stallMs = this.#options.stallTimeoutMs ?? 30_000;
    return new Promise((resolve) => {
      let gotFrames = false;
      let stallTimer: ReturnType<typeof setTimeout> | undefined;
      let socket: WebSocket;
      try {
        socket = new WebSocket(url);
      } catch (error) {
        log.error("WebSocket connect failed", { error });
        resolve(false);
        return;
      }
      this.#socket = socket;
      const armStall = () => {
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => {
          log.warn("WebSocket stalled, reconnecting", { stallMs });
          socket.close();
        }, stallMs);
      };
      socket.onopen = () => {
        this.#connects++;
        log.info("WebSocket connected, subscribing", { url, productIds });
        socket.send(JSON.stringify({
          type: "subscribe",
          product_ids: productIds,
          channels: this.#options.channels ?? ["ticker_batch"],
        }));
        armStall();
      };
      socket.onmessage = (event) => {
        gotFrames = true;
        armStall();
        const text = typeof event.data === "string" ? event.data : "";
        this.#options.onFrame(text, Date.now());
      };
      socket.onerror = (event) => {
        log.warn("WebSocket error", { message: (event as ErrorEvent).message });
      };
      socket.onclose = () => {
        clearTimeout(stallTimer);
        resolve(gotFrames);
      };
    });
  }
}
