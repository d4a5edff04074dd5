/** The dashboard store: owns a state, applies inputs, and follows the arena's topics on a bus. */

import type { Bus, BusRecord, Subscription } from "../bus/bus.ts";
import { decodeRecord } from "../bus/messages.ts";
import {
  ACTIVITY_TOPIC,
  AGENT_INPUT_TOPIC,
  ARENA_TOPICS,
  LEDGER_TOPIC,
  PRICE_TOPIC,
} from "../bus/topics.ts";
import { ActivityEvent } from "../contracts/activity.ts";
import { LedgerEvent } from "../contracts/ledger.ts";
import { MarketSnapshot, PriceTick } from "../contracts/market.ts";
import type { Logger } from "../log.ts";
import {
  applyDashboardInput,
  createDashboardState,
  type DashboardInput,
  type DashboardState,
  type DashboardStateOptions,
} from "./state.ts";

/** The topics a dashboard reads. */
export interface DashboardTopics {
  /** Ledger events (default `arena.ledger`). */
  ledger: string;
  /** Price ticks (default `arena.prices`). */
  prices: string;
  /** Activity events (default `arena.activity`). */
  activity: string;
  /** Market snapshots, for the market clock (default `agent_router.input`). */
  snapshots: string;
}

/** The arena's topics. */
export const DASHBOARD_TOPICS: DashboardTopics = {
  ledger: LEDGER_TOPIC,
  prices: PRICE_TOPIC,
  activity: ACTIVITY_TOPIC,
  snapshots: AGENT_INPUT_TOPIC,
};

function topicsOf(topics: Partial<DashboardTopics> | undefined): DashboardTopics {
  return { ...DASHBOARD_TOPICS, ...topics };
}

function topicList(topics: DashboardTopics): string[] {
  return [topics.ledger, topics.prices, topics.activity, topics.snapshots];
}

/**
 * Creates the arena topics among `topics` that do not exist yet, with their real partition
 * counts and retention: a dashboard started first must not leave a broker to auto-create the
 * ledger with defaults. Existing topics are untouched.
 */
async function ensureArenaTopics(bus: Bus, topics: DashboardTopics): Promise<void> {
  const wanted = new Set(topicList(topics));
  const specs = ARENA_TOPICS.filter((spec) => wanted.has(spec.topic));
  if (specs.length > 0) await bus.ensureTopics(specs);
}

/** Only the clock fields of a snapshot: the candles are not needed to watch the arena. */
const SnapshotClock = MarketSnapshot.pick({ v: true, tick: true, time: true, source: true });

/** Holds a dashboard state, counts changes and tells listeners about them. */
export class DashboardStore {
  /** The current state (mutated only through {@linkcode DashboardStore.apply}). */
  readonly state: DashboardState;
  #version = 0;
  #listeners = new Set<() => void>();

  /** Creates a store with an empty state, or holding `options.state` (e.g. a finished run's). */
  constructor(options: DashboardStateOptions & { state?: DashboardState } = {}) {
    this.state = options.state ?? createDashboardState(options);
  }

  /** Change counter: increases on every applied input. */
  get version(): number {
    return this.#version;
  }

  /** Applies one input and notifies listeners. */
  apply(input: DashboardInput): void {
    applyDashboardInput(this.state, input);
    this.#version++;
    for (const listener of this.#listeners) listener();
  }

  /** Calls `listener` after every change; returns a function that stops it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Decodes a record of one of the dashboard topics into a reducer input, or a reason. */
export function decodeDashboardRecord(
  record: BusRecord,
  topics: DashboardTopics = DASHBOARD_TOPICS,
): { ok: true; input: DashboardInput } | { ok: false; reason: string } {
  switch (record.topic) {
    case topics.ledger: {
      const decoded = decodeRecord(LedgerEvent, record);
      return decoded.ok ? { ok: true, input: { kind: "ledger", event: decoded.message } } : decoded;
    }
    case topics.prices: {
      const decoded = decodeRecord(PriceTick, record);
      return decoded.ok ? { ok: true, input: { kind: "price", tick: decoded.message } } : decoded;
    }
    case topics.activity: {
      const decoded = decodeRecord(ActivityEvent, record);
      return decoded.ok
        ? { ok: true, input: { kind: "activity", event: decoded.message } }
        : decoded;
    }
    case topics.snapshots: {
      const decoded = decodeRecord(SnapshotClock, record);
      return decoded.ok
        ? { ok: true, input: { kind: "snapshot", snapshot: decoded.message } }
        : decoded;
    }
    default:
      return { ok: false, reason: `Topic must be one of ${topicList(topics).join(", ")}` };
  }
}

/** Options for {@linkcode connectDashboard}. */
export interface ConnectDashboardOptions {
  /** Where invalid messages and progress are logged. */
  log: Logger;
  /** Consumer group id; default a unique id, so every dashboard reads everything. */
  groupId?: string;
  /** Topics to read instead of the arena's (e.g. isolated topics in tests). */
  topics?: Partial<DashboardTopics>;
}

/**
 * Reads the ledger, price, activity and snapshot topics from the beginning into the store, then
 * follows them live. Read-only: invalid records are logged and skipped, nothing is published.
 */
export async function connectDashboard(
  bus: Bus,
  store: DashboardStore,
  options: ConnectDashboardOptions,
): Promise<Subscription> {
  const log = options.log;
  const groupId = options.groupId ?? `dashboard-${crypto.randomUUID()}`;
  const topics = topicsOf(options.topics);
  await ensureArenaTopics(bus, topics);
  // Remember where each partition ends now: once every one is reached, the dashboard is live.
  const pending = new Map<string, bigint>();
  for (const topic of topicList(topics)) {
    for (const [partition, end] of await bus.endOffsets(topic)) {
      if (BigInt(end) > 0n) pending.set(`${topic}/${partition}`, BigInt(end));
    }
  }
  store.apply({ kind: "status", status: pending.size === 0 ? "live" : "catching_up" });
  if (pending.size === 0) log.info("Dashboard is live", { groupId });

  return await bus.subscribe({
    groupId,
    topics: topicList(topics),
    fromBeginning: true,
    handler: (record) => {
      const decoded = decodeDashboardRecord(record, topics);
      if (decoded.ok) {
        store.apply(decoded.input);
      } else {
        log.warn("Skipping invalid message", {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          reason: decoded.reason,
        });
      }
      const key = `${record.topic}/${record.partition}`;
      const end = pending.get(key);
      if (end !== undefined && BigInt(record.offset) + 1n >= end) {
        pending.delete(key);
        if (pending.size === 0) {
          store.apply({ kind: "status", status: "live" });
          log.info("Dashboard caught up and is live", { groupId });
        }
      }
      return Promise.resolve();
    },
  });
}

/** Reads every dashboard topic to its current end into a fresh finished state (for reports). */
export async function readDashboardState(
  bus: Bus,
  options: { log: Logger; topics?: Partial<DashboardTopics> } & DashboardStateOptions,
): Promise<DashboardState> {
  const store = new DashboardStore(options);
  const topics = topicsOf(options.topics);
  await ensureArenaTopics(bus, topics);
  for (const topic of topicList(topics)) {
    await bus.readAll(topic, (record) => {
      const decoded = decodeDashboardRecord(record, topics);
      if (decoded.ok) store.apply(decoded.input);
      else {
        options.log.warn("Skipping invalid message", {
          topic: record.topic,
          offset: record.offset,
          reason: decoded.reason,
        });
      }
      return Promise.resolve();
    });
  }
  store.apply({ kind: "status", status: "finished" });
  return store.state;
}
