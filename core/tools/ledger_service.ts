/**
 * The ledger service state of a tools replica: follows the whole ledger topic and the price
 * topic, and executes trades exactly once per tool call id.
 *
 * Durability: an accepted trade is published to the ledger topic (keyed by agent, broker
 * acknowledged) before the tool replies, then applied locally. On start the replica reads
 * the whole ledger (readAll) and the price topic, then follows both with consumer groups of
 * its own. A refused trade request is published too (a `trade_refused` event, before the
 * reply), so a repeated tool call id is answered from the recorded event, trade or refusal,
 * after any restart.
 *
 * Catching up: another replica writes for an agent only while it owns the agent's tool request
 * partitions, and this replica applies its own writes as soon as the broker acknowledges them.
 * So once the tools signal an assignment ({@linkcode LedgerService.markAssigned}, called on
 * every (re)assignment of their request partitions), the first request after it reads the
 * ledger's end offsets once and waits until they are applied; later requests are answered from
 * memory with no lookup until the next assignment. get_portfolio is answered from memory for an
 * agent whose execute_trade requests this replica served since the last assignment (no one else
 * trades it); for any other agent (its trades may come from another replica) it looks the end
 * offsets up first. A replica whose bus never signals assignments looks the end offsets up
 * before every request. Concurrent lookups share one request.
 *
 * Quotes age on the market clock ({@linkcode QuoteClock}): a quote older than `maxQuoteAgeMs`
 * refuses the trade even when no feed marked it stale (a feed that is gone marks nothing).
 *
 * Engine exits: the replica holds every position's stop loss, take profit and liquidation (see
 * `core/ledger/exits.ts`). Each price tick it reads, live or in the start-up read of the price
 * topic, is checked against the positions in its product (an index of holders, not a scan of
 * every account); a tick that crosses a level queues the exit under the agent's lock, so it is
 * ordered with the agent's own trades, re-checks it against the state then, and publishes the
 * closing trade (keyed by agent, broker acknowledged) before applying it. The fill uses that
 * tick's own quote, not the latest, and the exit's tool call id is the position's one exit id:
 * after a crash the restarted replica re-reads the price topic, meets the same first crossing
 * tick and writes the same exit (while that tick is within the price topic's retention); a
 * position whose exit already landed is closed in the rebuilt state, and a second copy of an
 * exit is ignored by every rebuild. Stale ticks and ticks no later than the position's last
 * trade trigger nothing.
 *
 * Known limit of exits: each replica watches every account, and a replica's exit and another
 * replica's trade for the same agent are not ordered by one lock. The exit re-reads the ledger
 * end before it publishes, which narrows the window but does not close it: when an agent's trade
 * on one replica and an exit on another race, the ledger keeps the first and every rebuild skips
 * the later one (an exit that no longer matches its position is ignored; a trade that contradicts
 * the state is counted in `corruptEvents`), though the replica that wrote a skipped trade told
 * the agent it executed. One tools replica is the supported set-up for engine exits.
 *
 * Known limit: there is no fencing of a replica that lost its partitions but keeps running (a
 * "zombie" paused longer than the session timeout); such a replica could answer a tool call its
 * successor also answers, writing a second event with the same tool call id; every rebuild
 * ignores that second event (the first answer counts), so the books stay consistent, but its
 * reply may describe an outcome the ledger does not count.
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
import { exitTrade, exitTrigger } from "../ledger/exits.ts";
import { portfolioView } from "../ledger/portfolio.ts";
import type { MarketClock } from "../market/clock.ts";
import { DEFAULT_MAX_QUOTE_AGE_MS, QuoteClock } from "../market/price_book.ts";
import {
  accountOpenedEvent,
  DEFAULT_STARTING_CASH,
  DEFAULT_TRADE_CONFIG,
  executeTrade,
  quoteAgeRefusal,
  type TradeConfig,
  tradeConfirmation,
  tradeRefusedEvent,
  type TradeRequest,
} from "../ledger/trade.ts";
import { HolderIndex } from "./holders.ts";

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
  /** Longest age of a quote a fill may use, in market ms (default 120000). */
  maxQuoteAgeMs?: number;
  /** The wall clock the market clock follows on a live feed (default the real one; tests). */
  wallClock?: MarketClock;
}

/** What a tool answers: ok and the text the model reads. */
export interface LedgerOutcome {
  /** Whether the request succeeded. */
  ok: boolean;
  /** Text for the model. */
  content: string;
}

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
  #quoteClock: QuoteClock;
  #maxQuoteAgeMs: number;
  /** (Re)assignments of the tools' partitions signalled so far; 0 = never signalled. */
  #assignments = 0;
  /** The assignment count the state was last proven caught up for. */
  #caughtUpFor = 0;
  /** Agents whose execute_trade requests this replica served, by the assignment count then. */
  #tradedHere = new Map<string, number>();
  /** End-offset lookups made so far (start and rebalances only, when assignments are signalled). */
  endOffsetLookups = 0;
  /** Agents holding a position, by product: the accounts a tick can close. */
  #holders = new HolderIndex();
  /** Exit checks queued or under way (close waits for them). */
  #exits = new Set<Promise<void>>();

  private constructor(bus: Bus, options: LedgerServiceOptions) {
    this.#bus = bus;
    this.#log = options.log;
    this.#config = options.config ?? DEFAULT_TRADE_CONFIG;
    this.#startingCash = options.startingCash ?? DEFAULT_STARTING_CASH;
    this.#ledgerTopic = options.ledgerTopic ?? LEDGER_TOPIC;
    this.#syncTimeoutMs = options.syncTimeoutMs ?? 15_000;
    this.#quoteClock = new QuoteClock(options.wallClock);
    this.#maxQuoteAgeMs = options.maxQuoteAgeMs ?? DEFAULT_MAX_QUOTE_AGE_MS;
    if (!(this.#maxQuoteAgeMs > 0)) {
      throw new Error(`Max quote age must be a positive number of ms, got ${this.#maxQuoteAgeMs}`);
    }
    this.#ledger = new TopicFollower(this.#ledgerTopic, (record) => this.#applyRecord(record));
    this.#priceFollower = new TopicFollower(
      options.priceTopic ?? PRICE_TOPIC,
      (record) => this.#priceRecord(record),
    );
  }

  /** The fees, slippage and increments this desk trades with (what execute_trade describes). */
  get config(): TradeConfig {
    return this.#config;
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
    if (event.type === "trade_executed") {
      const holds = this.state.accounts.get(event.agent)?.positions.has(event.productId) ?? false;
      this.#holders.set(event.agent, event.productId, holds);
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
    this.#watchExits(decoded.message);
  }

  /**
   * Queues an exit check under the agent's lock for every holder of the tick's product whose
   * position the tick crosses, and for every agent with work under way (a trade being published
   * may open or change a position the tick crosses).
   */
  #watchExits(tick: PriceTick): void {
    if (tick.stale) return;
    const agents = new Set(this.#locks.keys());
    for (const agent of this.#holders.of(tick.productId)) {
      const position = this.state.accounts.get(agent)?.positions.get(tick.productId);
      if (position && exitTrigger(position, tick)) agents.add(agent);
    }
    for (const agent of agents) {
      const check = this.#withAgent(agent, () => this.#exitAt(agent, tick)).catch((error) => {
        // The position stays open: the next quote that crosses a level tries again.
        this.#log.error("Publishing an engine exit failed", {
          agent,
          productId: tick.productId,
          error,
        });
      });
      this.#exits.add(check);
      check.finally(() => this.#exits.delete(check));
    }
  }

  /**
   * Closes the agent's position in the tick's product at the tick's quote when the tick crosses
   * its stop, target or liquidation level in the state at this point (under the agent's lock).
   */
  async #exitAt(agent: string, tick: PriceTick): Promise<void> {
    const crossed = () => {
      const account = this.state.accounts.get(agent);
      const position = account?.positions.get(tick.productId);
      const trigger = position && exitTrigger(position, tick);
      return account && position && trigger ? { account, position, trigger } : undefined;
    };
    if (!crossed()) return;
    // Another replica may have traded for the agent: read the ledger to its end first.
    if (!(await this.syncLedger())) {
      this.#log.warn("Engine exit deferred: the ledger is still catching up", {
        agent,
        productId: tick.productId,
      });
      return;
    }
    const exit = crossed();
    if (!exit) return;
    const event = exitTrade(exit.account, exit.position, {
      trigger: exit.trigger,
      tick,
      config: this.#config,
    });
    await this.#publish(agent, event);
    this.#log.info("Engine exit", {
      agent,
      productId: event.productId,
      cause: event.cause,
      side: event.side,
      quantity: event.quantity,
      fillPrice: event.fillPrice,
      quoteTime: tick.time,
      ...(event.badDebt ? { badDebt: event.badDebt } : {}),
    });
  }

  /** Keeps a price tick when it is not older than the one held for its product. */
  updatePrice(tick: PriceTick): void {
    const held = this.prices.get(tick.productId);
    if (held && Date.parse(held.time) > Date.parse(tick.time)) return;
    this.prices.set(tick.productId, tick);
    this.#quoteClock.observe(Date.parse(tick.time));
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
      this.endOffsetLookups++;
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

  /**
   * Tells the service that the tool request partitions of this replica were (re)assigned:
   * another replica may have written for its agents, so the next request catches up first.
   */
  markAssigned(): void {
    this.#assignments++;
  }

  /**
   * Resolves true once the state holds every event written for the agents this replica serves:
   * at once when no assignment happened since the last catch-up, else after one end-offset
   * lookup (shared by concurrent callers) has been applied; false on timeout.
   */
  async #caughtUp(options: { lookup?: boolean } = {}): Promise<boolean> {
    const target = this.#assignments;
    if (!options.lookup && target > 0 && this.#caughtUpFor === target) return true;
    const synced = await this.syncLedger();
    if (synced && this.#caughtUpFor < target) this.#caughtUpFor = target;
    return synced;
  }

  /** Market time now in ms on the quotes' clock (undefined before the first quote). */
  marketNowMs(): number | undefined {
    return this.#quoteClock.now();
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
      const assignment = this.#assignments;
      if (!(await this.#caughtUp())) {
        return {
          ok: false,
          content: "The ledger is still catching up after a restart; try the trade again shortly",
        };
      }
      // The agent's trade requests come here until the next assignment: no one else trades it.
      if (assignment > 0) this.#tradedHere.set(request.agent, assignment);
      const key = tradeKey(request.agent, request.toolCallId);
      const recorded = this.#recordedAnswer(key);
      if (recorded) return recorded;
      const account = await this.#account(request.agent);
      const nowMs = this.#quoteClock.now();
      const quoteAge = nowMs === undefined ? undefined : { nowMs, maxAgeMs: this.#maxQuoteAgeMs };
      const decision = executeTrade(account, request, {
        price: this.prices.get(request.productId),
        config: this.#config,
        time: this.marketTime,
        pricedProducts: [...this.prices.values()]
          .filter((tick) => !tick.stale && !(quoteAge && quoteAgeRefusal(tick, quoteAge)))
          .map((tick) => tick.productId),
        quoteAge,
      });
      const event = decision.ok ? decision.event : tradeRefusedEvent(request, {
        reason: decision.reason,
        // Never a clock of its own: the market's, else the opening's (a refusal moves no clock).
        time: this.marketTime ?? account.openedAt,
      });
      try {
        await this.#publish(request.agent, event);
      } catch (error) {
        // The broker may have stored the event before failing: look before answering.
        this.#log.warn("Publishing a trade outcome failed; checking the ledger", {
          agent: request.agent,
          toolCallId: request.toolCallId,
          error,
        });
        const landed = (await this.syncLedger().catch(() => false)) && this.#recordedAnswer(key);
        if (landed) return landed;
        throw error;
      }
      if (!decision.ok) {
        this.#log.info("Trade refused", {
          agent: request.agent,
          toolCallId: request.toolCallId,
          reason: decision.reason.slice(0, 200),
        });
        return this.#recordedAnswer(key) ?? { ok: false, content: decision.reason };
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

  /** The recorded answer to a tool call: its trade or its refusal, if either is on the ledger. */
  #recordedAnswer(key: string): LedgerOutcome | undefined {
    const done = this.state.trades.get(key);
    if (done) return { ok: true, content: tradeConfirmation(done) };
    const refused = this.state.refusals.get(key);
    if (refused) return { ok: false, content: refused.reason };
    return undefined;
  }

  /** The agent's portfolio marked at the latest best bids (opens the account if new). */
  portfolio(agent: string): Promise<PortfolioView> {
    return this.#withAgent(agent, async () => {
      // Trades of an agent this replica does not trade for are written by another replica.
      const assignment = this.#assignments;
      const tradedHere = assignment > 0 && this.#tradedHere.get(agent) === assignment;
      await this.#caughtUp({ lookup: !tradedHere });
      const account = await this.#account(agent);
      const time = this.marketTime ?? new Date().toISOString();
      return portfolioView(account, { prices: this.prices, time });
    });
  }

  /** Stops following the topics, after the exits already triggered are written. */
  async close(): Promise<void> {
    await this.#priceFollower.close();
    await Promise.allSettled([...this.#exits]);
    await this.#ledger.close();
  }
}
