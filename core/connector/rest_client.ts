/** Coinbase Exchange REST client: rate limited, retrying 429 and 5xx with backoff. */

import type { Logger } from "../log.ts";
import { backoffDelay, type BackoffOptions, sleep } from "../backoff.ts";

/** Options for {@linkcode CoinbaseRestClient}. */
export interface RestClientOptions {
  /** Base URL, e.g. `https://api.exchange.coinbase.com`. */
  baseUrl: string;
  /** Request starts per second; stays under the public limit of about 10 (default 8). */
  maxRequestsPerSecond?: number;
  /** Retries after a 429, a 5xx or a network error (default 5). */
  maxRetries?: number;
  /** Backoff between retries (default 250 ms doubling to 10 s). */
  backoff?: BackoffOptions;
  /** Per-request timeout in ms (default 10 s). */
  timeoutMs?: number;
  /** Where retries are reported. */
  log: Logger;
  /** Called with every successful response body (for recording). */
  onResponse?: (path: string, body: string) => void;
}

/** An HTTP answer that will not get better by retrying. */
export class RestError extends Error {
  /** HTTP status. */
  readonly status: number;

  /** Creates the error. */
  constructor(message: string, status: number) {
    super(message);
    this.name = "RestError";
    this.status = status;
  }
}

/** Public market-data endpoints of the Coinbase Exchange REST API. */
export class CoinbaseRestClient {
  readonly #options: RestClientOptions;
  readonly #baseUrl: string;
  #nextStart = 0;
  #retries = 0;

  /** Creates a client; no request is made until a method is called. */
  constructor(options: RestClientOptions) {
    this.#options = options;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  /** Retries made so far (429, 5xx or network errors). */
  get retries(): number {
    return this.#retries;
  }

  /** GETs a path and returns the body text, retrying what can be retried. */
  get(path: string, signal?: AbortSignal): Promise<string> {
    return this.#get(path, { signal, maxRetries: this.#options.maxRetries ?? 5 });
  }

  /**
   * GETs a path like {@linkcode CoinbaseRestClient.get}, but waits for an exchange that does not
   * answer (network errors, 429, 5xx) as long as it takes, with backoff up to 30 s, logging a
   * warning "Waiting for the exchange" before each try; ends early when `signal` aborts.
   */
  waitFor(path: string, signal?: AbortSignal): Promise<string> {
    return this.#get(path, { signal, maxRetries: Infinity, waiting: true });
  }

  async #get(
    path: string,
    options: { signal?: AbortSignal; maxRetries: number; waiting?: boolean },
  ): Promise<string> {
    const { signal, maxRetries } = options;
    for (let attempt = 0;; attempt++) {
      await this.#throttle();
      let status = 0;
      let retryAfterMs: number | undefined;
      let reason: string;
      try {
        const response = await fetch(`${this.#baseUrl}${path}`, {
          headers: { accept: "application/json", "user-agent": "daytrading-agents-arena" },
          signal: AbortSignal.any([
            AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
            ...(signal ? [signal] : []),
          ]),
        });
        const body = await response.text();
        if (response.ok) {
          this.#options.onResponse?.(path, body);
          if (options.waiting && attempt > 0) {
            this.#options.log.notice("The exchange answers", { url: this.#baseUrl });
          }
          return body;
        }
        status = response.status;
        reason = `HTTP ${status}: ${body.slice(0, 120)}`;
        if (status !== 429 && status < 500) {
          throw new RestError(`GET ${path} failed: ${reason}`, status);
        }
        const header = response.headers.get("retry-after");
        if (header && /^\d+(\.\d+)?$/.test(header)) retryAfterMs = Number(header) * 1000;
      } catch (error) {
        if (error instanceof RestError || signal?.aborted) throw error;
        reason = (error as Error).message;
      }
      if (attempt >= maxRetries) {
        throw new RestError(`GET ${path} failed after ${attempt + 1} attempts: ${reason}`, status);
      }
      const delay = Math.max(
        retryAfterMs ?? 0,
        options.waiting
          ? backoffDelay(attempt, { initialMs: 1_000, maxMs: 30_000, ...this.#options.backoff })
          : backoffDelay(attempt, { initialMs: 250, maxMs: 10_000, ...this.#options.backoff }),
      );
      this.#retries++;
      if (options.waiting) {
        this.#options.log.warn("Waiting for the exchange", {
          url: this.#baseUrl,
          reason,
          attempt: attempt + 1,
          retryInMs: delay,
        });
      } else {
        this.#options.log.warn("Retrying REST request", { path, status, reason, delayMs: delay });
      }
      await sleep(delay, signal);
      if (signal?.aborted) throw new Error(`Stopped waiting for ${this.#baseUrl}`);
    }
  }

  /**
   * Checks every product id against `GET /products/{id}`; throws listing the unknown ones. The
   * first request waits for the exchange as long as it takes ({@linkcode CoinbaseRestClient.waitFor}).
   */
  async checkProducts(productIds: string[], signal?: AbortSignal): Promise<void> {
    const unknown: string[] = [];
    for (const [index, productId] of productIds.entries()) {
      const path = `/products/${encodeURIComponent(productId)}`;
      try {
        await (index === 0 ? this.waitFor(path, signal) : this.get(path, signal));
      } catch (error) {
        if (error instanceof RestError && (error.status === 404 || error.status === 400)) {
          unknown.push(productId);
        } else throw error;
      }
    }
    if (unknown.length > 0) {
      throw new Error(
        `Unknown product id ${unknown.join(", ")}: not listed by ${this.#baseUrl}/products; ` +
          "use ids like BTC-USD that the exchange lists",
      );
    }
  }

  /** The raw candles body of one product (`granularity` s, bar starts from `start` to `end`). */
  candles(
    productId: string,
    options: { granularity: number; start: number; end: number; signal?: AbortSignal },
  ): Promise<string> {
    const query = new URLSearchParams({
      granularity: String(options.granularity),
      start: new Date(options.start * 1000).toISOString(),
      end: new Date(options.end * 1000).toISOString(),
    });
    return this.get(`/products/${encodeURIComponent(productId)}/candles?${query}`, options.signal);
  }

  async #throttle(): Promise<void> {
    const gap = 1000 / (this.#options.maxRequestsPerSecond ?? 8);
    const now = Date.now();
    const start = Math.max(now, this.#nextStart);
    this.#nextStart = start + gap;
    await sleep(start - now);
  }
}
