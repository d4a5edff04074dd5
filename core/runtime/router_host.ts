/**
 * What the agents of one router process share: one subscription to the market topic (one consumer
 * group), one reply inbox on one private topic, and one activity publisher. A process with 300
 * agents thus holds two consumers instead of 600, and joins two groups at start instead of 1,200.
 *
 * Every agent still receives every snapshot: the host hands each one to all its agents. The
 * consumer group is the host's: with one agent it is the agent's name (as the original had it);
 * with several it is named after all of them ({@linkcode routerHostName}), so a restarted router
 * with the same agents resumes where they left off. Snapshots commit when handed over (latest
 * only: a backlog after downtime collapses to its newest snapshot per agent).
 */

import { setImmediate } from "node:timers";
import type { Bus, Subscription } from "../bus/bus.ts";
import { subscribeMessages } from "../bus/messages.ts";
import { ReplyInbox } from "../bus/request_reply.ts";
import { arenaTopics } from "../bus/topics.ts";
import { MarketSnapshot } from "../contracts/market.ts";
import type { Logger } from "../log.ts";
import { ActivityPublisher } from "./activity_publisher.ts";
import { followToolCatalog, type OfferedTools } from "./tool_catalog.ts";

/** An agent of a host: takes snapshots as they arrive and is woken once a burst has arrived. */
export interface HostedAgent {
  /** Takes a snapshot (latest only); must not start deciding before `wake`. */
  offer(snapshot: MarketSnapshot): void;
  /** Called once the snapshots that arrived together were all offered. */
  wake(): void;
  /** Takes the tools a republished tool catalog describes (from the next decision on). */
  updateTools?(offered: OfferedTools): void;
}

/** Options for {@linkcode RouterHost.open}. */
export interface RouterHostOptions {
  /** Host name: the reply topic is `agent_router.private.<name>`, the group defaults to it. */
  name: string;
  /** Consumer group on the market topic (default the name). */
  groupId?: string;
  /** Read snapshots published before a new consumer group joined (default false). */
  fromBeginning?: boolean;
  /** Prefix of every topic name (isolated arenas and tests; default none). */
  topicPrefix?: string;
  /** Follow the tool catalog and hand each change to the agents (default false). */
  followToolCatalog?: boolean;
  /** Where the host logs. */
  log: Logger;
}

/** FNV-1a of a text as 8 hex digits (a short, stable name part). */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/**
 * The host name of a router process running these agents: the agent's name for one agent, else
 * `<first name>.and-<n>-more.<hash of all names>` (the same for the same agents in any order).
 */
export function routerHostName(agents: readonly string[]): string {
  if (agents.length === 0) throw new Error("A router host needs at least one agent, got none");
  if (agents.length === 1) return agents[0]!;
  const sorted = [...agents].sort();
  return `${sorted[0]}.and-${sorted.length - 1}-more.${shortHash(sorted.join("\n"))}`;
}

/** The shared input, inbox and activity publisher of a router process; see the module doc. */
export class RouterHost {
  readonly #bus: Bus;
  readonly #options: RouterHostOptions;
  readonly #agents = new Set<HostedAgent>();
  readonly #inputTopic: string;
  /** The topic every agent of the host names as reply-to. */
  readonly replyTopic: string;
  /** The activity publisher shared by the host's agents. */
  readonly activity: ActivityPublisher;
  #inbox?: ReplyInbox;
  #input?: Subscription;
  #inputClosed?: Promise<void>;
  #catalog?: Subscription;
  #users = 0;
  #wakeScheduled = false;
  #closed?: Promise<void>;

  private constructor(bus: Bus, options: RouterHostOptions) {
    const topics = arenaTopics(options.topicPrefix);
    this.#bus = bus;
    this.#options = options;
    this.#inputTopic = topics.snapshots.topic;
    this.replyTopic = topics.agentPrivate(options.name).topic;
    this.activity = new ActivityPublisher(bus, {
      topic: topics.activity.topic,
      log: options.log,
    });
  }

  /** Creates the market and reply topics and opens the reply inbox; call `listen` after. */
  static async open(bus: Bus, options: RouterHostOptions): Promise<RouterHost> {
    const host = new RouterHost(bus, options);
    const topics = arenaTopics(options.topicPrefix);
    await bus.ensureTopics([topics.snapshots, topics.agentPrivate(options.name)]);
    host.#inbox = await ReplyInbox.open(bus, {
      replyTopic: host.replyTopic,
      groupId: `agent_router.${options.name}.replies.${crypto.randomUUID().slice(0, 8)}`,
      log: options.log,
    });
    return host;
  }

  /** The reply inbox shared by the host's agents. */
  get inbox(): ReplyInbox {
    return this.#inbox!;
  }

  /** Adds an agent: it gets every snapshot from now on; `release` it when it has stopped. */
  join(agent: HostedAgent): void {
    if (this.#closed) throw new Error("Router host is closed; open a new one");
    this.#agents.add(agent);
    this.#users++;
  }

  /** Stops handing snapshots to an agent; the last one to leave closes the market input. */
  async leave(agent: HostedAgent): Promise<void> {
    this.#agents.delete(agent);
    if (this.#agents.size === 0) await this.#closeInput();
  }

  /** Done with the host (after `leave` and the agent's last decision); the last user closes it. */
  async release(): Promise<void> {
    this.#users = Math.max(0, this.#users - 1);
    if (this.#users === 0) await this.close();
  }

  /**
   * Joins the consumer group on the market topic (snapshots go to every agent joined) and, when
   * asked, follows the tool catalog.
   */
  async listen(): Promise<void> {
    if (this.#input || this.#inputClosed || this.#closed) return;
    if (this.#options.followToolCatalog) {
      this.#catalog = await followToolCatalog(this.#bus, {
        topics: arenaTopics(this.#options.topicPrefix),
        log: this.#options.log,
        onTools: (offered) => {
          for (const agent of this.#agents) agent.updateTools?.(offered);
        },
      });
    }
    this.#input = await subscribeMessages(this.#bus, {
      groupId: this.#options.groupId ?? this.#options.name,
      topics: [this.#inputTopic],
      schema: MarketSnapshot,
      log: this.#options.log,
      fromBeginning: this.#options.fromBeginning ?? false,
      handler: (snapshot) => {
        this.#offer(snapshot);
        return Promise.resolve();
      },
    });
  }

  /** Closes the market input, publishes the activity still queued, then closes the inbox. */
  close(): Promise<void> {
    return this.#closed ??= (async () => {
      this.#agents.clear();
      await this.#closeInput();
      await this.#catalog?.close();
      await this.activity.flush();
      await this.#inbox?.close();
    })();
  }

  #closeInput(): Promise<void> {
    return this.#inputClosed ??= this.#input?.close() ?? Promise.resolve();
  }

  /**
   * Offers a snapshot to every agent, then wakes them once per burst: the wake waits for the
   * next turn of the event loop, so a backlog read in one fetch (a restart) is offered whole and
   * each agent decides on the newest snapshot only.
   */
  #offer(snapshot: MarketSnapshot): void {
    for (const agent of this.#agents) agent.offer(snapshot);
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      for (const agent of this.#agents) agent.wake();
    });
  }
}
