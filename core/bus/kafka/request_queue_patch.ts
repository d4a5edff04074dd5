/**
 * Stops kafkajs 2.2.4's request queue from running timers while it has nothing to do:
 *
 * - it re-arms a ~1 ms timer per connection forever (kafkajs issues #1556 and #1704): after
 *   every check of pending requests it schedules another, even with nothing pending, with a
 *   negative delay that fires at once. Patched, a check is scheduled only while requests wait
 *   in the queue (in-flight limit or broker throttling);
 * - it checks every connection for timed-out requests every 100 ms from connect to disconnect.
 *   Patched, the check runs only while requests are in flight, once a second (a request times
 *   out at most a second late; the timeout is 30 s).
 */

import process from "node:process";
import { clearInterval, setInterval, setTimeout } from "node:timers";
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

/** How long kafkajs waits before checking a queue held back by its in-flight limit. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;
/** How often requests in flight are checked for their timeout. */
const REQUEST_TIMEOUT_CHECK_MS = 1_000;

/** The parts of kafkajs' RequestQueue the patch reads and replaces. */
export interface RequestQueueInternals {
  /** Requests waiting to be sent. */
  pending: unknown[];
  /** Until when (epoch ms) the broker asked this client to hold requests back. */
  throttledUntil: number;
  /** The scheduled check of pending requests, if any. */
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  /** Requests sent and not answered, by correlation id. */
  inflight: Map<number, { sentAt: number; requestTimeout: number; timeoutRequest(): void }>;
  /** Whether requests time out (kafkajs `enforceRequestTimeout`). */
  enforceRequestTimeout: boolean;
  /** Default request timeout in ms. */
  requestTimeout: number;
  /** The periodic timeout check, if armed. */
  requestTimeoutIntervalId?: ReturnType<typeof setInterval>;
  /** Set by the patch: the connection is up, so timeouts are checked while requests run. */
  timeoutChecksEnabled?: boolean;
  /** Whether the connection is up. */
  isConnected(): boolean;
  /** Sends or queues a request. */
  push(request: unknown): void;
  /** Sends as many pending requests as limits allow, then schedules the next check. */
  checkPendingRequests(): void;
  /** Schedules a check of pending requests. */
  scheduleCheckPendingRequests(): void;
  /** Clears the queue's timers. */
  destroy(): void;
  /** Starts checking requests for their timeout (called when the connection is up). */
  scheduleRequestTimeoutCheck(): void;
}

interface RequestQueueClass {
  prototype: RequestQueueInternals;
}

const requestQueue = RequestQueue as unknown as RequestQueueClass;
const original = {
  scheduleCheckPendingRequests: requestQueue.prototype.scheduleCheckPendingRequests,
  scheduleRequestTimeoutCheck: requestQueue.prototype.scheduleRequestTimeoutCheck,
  push: requestQueue.prototype.push,
  destroy: requestQueue.prototype.destroy,
};
let patched = false;

/** Schedules a check only while requests are pending; kafkajs' own version always does. */
function scheduleCheckPendingRequests(this: RequestQueueInternals): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const throttledMs = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    throttledMs > 0 ? throttledMs : CHECK_PENDING_REQUESTS_INTERVAL_MS,
  );
}

/** Starts the timeout checks of a connection that is up; they run while requests do. */
function scheduleRequestTimeoutCheck(this: RequestQueueInternals): void {
  if (!this.enforceRequestTimeout) return;
  this.destroy();
  this.timeoutChecksEnabled = true;
  armTimeoutCheck(this);
}

/** Sends or queues a request, then makes sure its timeout is checked. */
function push(this: RequestQueueInternals, request: unknown): void {
  original.push.call(this, request);
  armTimeoutCheck(this);
}

/** Clears the queue's timers; timeouts are checked again once the connection is up. */
function destroy(this: RequestQueueInternals): void {
  original.destroy.call(this);
  this.requestTimeoutIntervalId = undefined;
  this.timeoutChecksEnabled = false;
}

/** Arms the periodic timeout check unless it runs or the queue is idle; it disarms when idle. */
function armTimeoutCheck(queue: RequestQueueInternals): void {
  if (!queue.timeoutChecksEnabled || queue.requestTimeoutIntervalId !== undefined) return;
  if (queue.inflight.size === 0 && queue.pending.length === 0) return;
  const interval = setInterval(() => {
    const now = Date.now();
    queue.inflight.forEach((request) => {
      if (now - request.sentAt > request.requestTimeout) request.timeoutRequest();
    });
    if (!queue.isConnected()) {
      queue.destroy();
    } else if (queue.inflight.size === 0 && queue.pending.length === 0) {
      clearInterval(interval);
      queue.requestTimeoutIntervalId = undefined;
    }
  }, Math.min(queue.requestTimeout, REQUEST_TIMEOUT_CHECK_MS));
  queue.requestTimeoutIntervalId = interval;
}

/** Patches kafkajs' request queue (once per process); every KafkaBus calls it. */
export function patchRequestQueue(): void {
  if (patched) return;
  patched = true;
  const prototype = requestQueue.prototype;
  prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  prototype.scheduleRequestTimeoutCheck = scheduleRequestTimeoutCheck;
  prototype.push = push;
  prototype.destroy = destroy;
}

/** Restores kafkajs' own request queue, for measurements of the patch; new buses patch again. */
export function unpatchRequestQueue(): void {
  if (!patched) return;
  patched = false;
  Object.assign(requestQueue.prototype, original);
}

/** The request queue's prototype, for tests that count the timers it arms. */
export function requestQueuePrototype(): RequestQueueInternals {
  return requestQueue.prototype;
}

let timeoutWarningSilenced = false;

/**
 * Drops the runtime's TimeoutNegativeWarning caused by kafkajs; other warnings still print.
 *
 * Unpatched, kafkajs 2.2.4 schedules its request-queue check with a negative delay when not
 * throttled (harmless: the timer fires at once), and the runtime prints a
 * TimeoutNegativeWarning for it. Drop that one warning; every other warning still reaches the
 * original listeners.
 */
export function silenceNegativeTimeoutWarning(): void {
  if (timeoutWarningSilenced) return;
  timeoutWarningSilenced = true;
  const listeners = process.listeners("warning");
  process.removeAllListeners("warning");
  process.on("warning", (warning: Error) => {
    if (warning.name === "TimeoutNegativeWarning") return;
    for (const listener of listeners) listener(warning);
  });
}
