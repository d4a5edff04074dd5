/**
 * The ledger service state of a tools replica: follows the whole ledger topic and the price
 * topic, and executes trades exactly once per tool call id.
 *
 * Durability: an accepted trade is published to the ledger topic (keyed by agent, broker
 * acknowledged) before the tool replies, then applied locally. On start the replica reads
 * the whole ledger (readAll) and the price topic, then follows both with consumer groups of
 * its own. Before executing for an agent it waits until it has applied the ledger up to the
 * end offsets read at that moment (every partition), so after a takeover it sees the last
 * event a dead replica wrote. A repeated tool call id is answered from the recorded event.
 * Refusals are not durable: they are remembered in memory only (a redelivery after a restart
 * is evaluated again). Known limit: there is no fencing of a replica that lost its partitions
 * but keeps running (a "zombie" paused longer than the session timeout); such a replica could execute a tool
 * call its successor also executes, writing a second event with the same tool call id; every
 * rebuild ignores that second event, so the books stay consistent, but its reply may describe a
 * fill the ledger does not count.
 */

import type { Bus, BusRecord, Subscription } from "../bus/bus.ts";
import { decodeRecord, encodeMessage } from "../bus/messages.ts";
import { LEDGER_TOPIC, PRICE_TOPIC } from "../bus/topics.ts";
import { LedgerEvent } from "../contracts/ledger.ts";
import { PriceTick } from "../contracts/market.ts";
import type { PortfolioView } from "../contracts/portfolio.ts";
import type { Logger } from "../log.ts";
import {
  type Account,
  applyEvent,
  createLedgerState,
  type LedgerState,
  tradeKey,
} from "../ledger/account.ts";
import { portfolioView } from "../ledger/portfolio.ts";
import {
  accountOpenedEvent,
  DEFAULT_STARTING_CASH,
  DEFAULT_TRADE_CONFIG,
  executeTrade,
  type TradeConfig,
  tradeConfirmation,
  type TradeRequest,
} from "../ledger/trade.ts";

/** Options for {@linkcode LedgerService.start}. */
export interface LedgerServiceOptions {
  /** Where progress and problems are logged. */
  log: Logger;
  /** Starting cash of new accounts (default 100000). */
  startingCash?: string;
  /** Fee, slippage and increments (default 60 bps fee, no slippage). */
  config?: TradeConfig;
  /** Ledger topic (default `arena.ledger`). */
  ledgerTopic?: string;
  /** Price topic (default `arena.prices`). */
  priceTopic?: string;
  /** Longest wait for the ledger to catch up before a trade is refused (default 15000). */
  syncTimeoutMs?: number;
  /** Prefix of the follower consumer groups (a unique suffix is added). */
  groupPrefix?: string;
}

/** What a tool answers: ok and the text the model reads. */
export interface LedgerOutcome {
  /** Whether the request succeeded. */
  ok: boolean;
  /** Text for the model. */
  content: string;
}

const REFUSAL_MEMORY = 10_000;

/** Follows one topic: readAll at start, then a private consumer group skipping what was read. */
class TopicFollower {
  /** Next offset to apply per partition. */
  readonly next = new Map<number, bigint>();
  #waiters = new Set<() => void>();
  #subscription?: Subscription;

  constructor(
    readonly topic: string,
    private readonly apply: (record: BusRecord) => void,
  ) {}

  async start(bus: Bus, groupId: string): Promise<void> {
    await bus.readAll(this.topic, (record) => {
      this.#take(record);
      return Promise.resolve();
    });
    this.#subscription = await bus.subscribe({
      groupId,
      topics: [this.topic],
      fromBeginning: true,
      concurrency: 16,
      handler: (record) => {
        this.#take(record);
        return Promise.resolve();
      },
    });
  }

  #take(record: BusRecord): void {
    const offset = BigInt(record.offset);
    const next = this.next.get(record.partition) ?? 0n;
    if (offset < next) return;
    this.apply(record);
    this.next.set(record.partition, offset + 1n);
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves true once every partition reached the given end offsets, false on timeout. */
  async waitFor(ends: Map<number, string>, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const caughtUp = () =>
      [...ends].every(([partition, end]) => (this.next.get(partition) ?? 0n) >= BigInt(end));
    while (!caughtUp()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        const wake = () => resolve();
        this.#waiters.add(wake);
        timer = setTimeout(() => {
          this.#waiters.delete(wake);
          resolve();
        }, Math.min(left, 200));
      });
      clearTimeout(timer);
    }
    return true;
  }

  async close(): Promise<void> {
    await this.#subscription?.close();
  }
}

/** Ledger state of one tools replica, kept in step with the ledger and price topics. */
export class LedgerService {
  /** Every account rebuilt from the ledger. */
  readonly state: LedgerState = createLedgerState();
  /** Latest price tick per product (by market time). */
  readonly prices: Map<string, PriceTick> = new Map();
  /** Latest market-clock time seen on the price topic. */
  marketTime: string | undefined;
  /** Ledger events that contradicted the state and were skipped (a corrupt ledger). */
  corruptEvents = 0;

  #bus: Bus;
  #log: Logger;
  #config: TradeConfig;
  #startingCash: string;
  #ledgerTopic: string;
  #syncTimeoutMs: number;
  #ledger: TopicFollower;
  #priceFollower: TopicFollower;
  #locks = new Map<string, Promise<unknown>>();
  #offsetsInFlight?: Promise<Map<number, string>>;
  #offsetsNext?: Promise<Map<number, string>>;
  #refusals = new Map<string, LedgerOutcome>();

  private constructor(bus: Bus, options: LedgerServiceOptions) {
    this.#bus = bus;
    this.#log = options.log;
    this.#config = options.config ?? DEFAULT_TRADE_CONFIG;
    this.#startingCash = options.startingCash ?? DEFAULT_STARTING_CASH;
    this.#ledgerTopic = options.ledgerTopic ?? LEDGER_TOPIC;
    this.#syncTimeoutMs = options.syncTimeoutMs ?? 15_000;
    this.#ledger = new TopicFollower(this.#ledgerTopic, (record) => this.#applyRecord(record));
    this.#priceFollower = new TopicFollower(
      options.priceTopic ?? PRICE_TOPIC,
      (record) => this.#priceRecord(record),
    );
  }

  /** Rebuilds every account from the ledger, loads prices, then follows both topics. */
  static async start(bus: Bus, options: LedgerServiceOptions): Promise<LedgerService> {
    const service = new LedgerService(bus, options);
    const suffix = crypto.randomUUID().slice(0, 8);
    const prefix = options.groupPrefix ?? "tools.follower";
    const started = performance.now();
    await service.#ledger.start(bus, `${prefix}.ledger.${suffix}`);
    await service.#priceFollower.start(bus, `${prefix}.prices.${suffix}`);
    service.#log.info("Ledger rebuilt", {
      accounts: service.state.accounts.size,
      events: service.state.applied,
      duplicates: service.state.duplicates,
      products: service.prices.size,
      ms: Math.round(performance.now() - started),
    });
    return service;
  }

  /** Applies one ledger event coming from the topic (or from this replica's own publish). */
  applyLedgerEvent(event: LedgerEvent): void {
    try {
      applyEvent(this.state, event);
    } catch (error) {
      this.corruptEvents++;
      this.#log.error("Skipping a ledger event that contradicts the state", {
        eventId: event.eventId,
        error,
      });
    }
  }

  #applyRecord(record: BusRecord): void {
    const decoded = decodeRecord(LedgerEvent, record);
    if (!decoded.ok) {
      this.#log.warn("Skipping invalid ledger record", {
        partition: record.partition,
        offset: record.offset,
        reason: decoded.reason,
      });
      return;
    }
    this.applyLedgerEvent(decoded.message);
  }

  #priceRecord(record: BusRecord): void {
    const decoded = decodeRecord(PriceTick, record);
    if (!decoded.ok) {
      this.#log.warn("Skipping invalid price record", {
        offset: record.offset,
        reason: decoded.reason,
      });
      return;
    }
    this.updatePrice(decoded.message);
  }

  /** Keeps a price tick when it is not older than the one held for its product. */
  updatePrice(tick: PriceTick): void {
    const held = this.prices.get(tick.productId);
    if (held && Date.parse(held.time) > Date.parse(tick.time)) return;
    this.prices.set(tick.productId, tick);
    if (!this.marketTime || Date.parse(tick.time) > Date.parse(this.marketTime)) {
      this.marketTime = tick.time;
    }
  }

  /**
   * End offsets of the ledger read by a request that started after this call: concurrent
   * callers share one request (the next one, when one is already under way).
   */
  #freshEndOffsets(): Promise<Map<number, string>> {
    if (!this.#offsetsInFlight) {
      this.#offsetsInFlight = this.#bus.endOffsets(this.#ledgerTopic).finally(() => {
        this.#offsetsInFlight = undefined;
      });
      return this.#offsetsInFlight;
    }
    this.#offsetsNext ??= this.#offsetsInFlight.catch(() => undefined).then(() => {
      this.#offsetsNext = undefined;
      return this.#freshEndOffsets();
    });
    return this.#offsetsNext;
  }

  /** Waits until the ledger is applied up to its current end (every partition). */
  async syncLedger(): Promise<boolean> {
    const ends = await this.#freshEndOffsets();
    return await this.#ledger.waitFor(ends, this.#syncTimeoutMs);
  }

  /** Runs work for one agent after the agent's previous work finished. */
  async #withAgent<T>(agent: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(agent) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    this.#locks.set(agent, next);
    try {
      return await next;
    } finally {
      if (this.#locks.get(agent) === next) this.#locks.delete(agent);
    }
  }

  async #publish(agent: string, event: LedgerEvent): Promise<void> {
    await this.#bus.publish(this.#ledgerTopic, [{ key: agent, value: encodeMessage(event) }]);
    this.applyLedgerEvent(event);
  }

  /** The agent's account, opened (durably) on its first request. */
  async #account(agent: string): Promise<Account> {
    const existing = this.state.accounts.get(agent);
    if (existing) return existing;
    const time = this.marketTime ?? new Date().toISOString();
    await this.#publish(agent, accountOpenedEvent(agent, { cash: this.#startingCash, time }));
    this.#log.info("Account opened", { agent, cash: this.#startingCash });
    return this.state.accounts.get(agent)!;
  }

  /** Executes a trade once per tool call id; a repeat gets the first answer again. */
  trade(request: TradeRequest): Promise<LedgerOutcome> {
    return this.#withAgent(request.agent, async () => {
      if (!(await this.syncLedger())) {
        return {
          ok: false,
          content: "The ledger is still catching up after a restart; try the trade again shortly",
        };
      }
      const key = tradeKey(request.agent, request.toolCallId);
      const done = this.state.trades.get(key);
      if (done) return { ok: true, content: tradeConfirmation(done) };
      const refused = this.#refusals.get(key);
      if (refused) return refused;
      const account = await this.#account(request.agent);
      const decision = executeTrade(account, request, {
        price: this.prices.get(request.productId),
        config: this.#config,
        time: this.marketTime,
        pricedProducts: [...this.prices.values()].filter((tick) => !tick.stale)
          .map((tick) => tick.productId),
      });
      if (!decision.ok) {
        const outcome = { ok: false, content: decision.reason };
        this.#refusals.set(key, outcome);
        if (this.#refusals.size > REFUSAL_MEMORY) {
          this.#refusals.delete(this.#refusals.keys().next().value!);
        }
        return outcome;
      }
      try {
        await this.#publish(request.agent, decision.event);
      } catch (error) {
        // The broker may have stored the event before failing: look before answering.
        this.#log.warn("Publishing a trade failed; checking the ledger", {
          agent: request.agent,
          toolCallId: request.toolCallId,
          error,
        });
        const landed = (await this.syncLedger().catch(() => false)) && this.state.trades.get(key);
        if (landed) return { ok: true, content: tradeConfirmation(landed) };
        throw error;
      }
      this.#log.info("Trade executed", {
        agent: request.agent,
        toolCallId: request.toolCallId,
        side: decision.event.side,
        productId: decision.event.productId,
        quantity: decision.event.quantity,
        fillPrice: decision.event.fillPrice,
      });
      return { ok: true, content: tradeConfirmation(decision.event) };
    });
  }

  /** The agent's portfolio marked at the latest best bids (opens the account if new). */
  portfolio(agent: string): Promise<PortfolioView> {
    return this.#withAgent(agent, async () => {
      await this.syncLedger();
      const account = await this.#account(agent);
      const time = this.marketTime ?? new Date().toISOString();
      return portfolioView(account, { prices: this.prices, time });
    });
  }

  /** Stops following the topics. */
  async close(): Promise<void> {
    await this.#ledger.close();
    await this.#priceFollower.close();
  }
}
