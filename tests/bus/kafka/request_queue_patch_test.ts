/** The kafkajs request-queue patch: no timer while nothing is pending, pending requests still go. */

import assert from "node:assert/strict";
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import {
  patchRequestQueue,
  type RequestQueueInternals,
  requestQueuePrototype,
} from "../../../core/bus/kafka/request_queue_patch.ts";
import { testKafkaBus, uniqueName } from "../../_kafka.ts";

interface TestQueue extends RequestQueueInternals {
  fulfillRequest(response: { correlationId: number; payload: null; size: number }): void;
  maybeThrottle(milliseconds: number): void;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function queue(maxInFlightRequests: number, requestTimeout?: number): TestQueue {
  const Queue = RequestQueue as unknown as new (options: unknown) => TestQueue;
  return new Queue({
    maxInFlightRequests,
    requestTimeout: requestTimeout ?? 30_000,
    enforceRequestTimeout: requestTimeout !== undefined,
    clientId: "test",
    broker: "127.0.0.1:9092",
    logger: quiet,
  });
}

function request(correlationId: number, sent: number[], failures: unknown[] = []) {
  return {
    entry: {
      correlationId,
      apiName: "Fetch",
      apiKey: 1,
      apiVersion: 11,
      resolve: () => {},
      reject: (error: unknown) => failures.push(error),
    },
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  };
}

Deno.test("patched request queue arms no timer while nothing is pending", () => {
  patchRequestQueue();
  const requests = queue(5);
  const sent: number[] = [];
  requests.push(request(1, sent));
  requests.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
  requests.checkPendingRequests();
  assert.deepEqual(sent, [1]);
  assert.equal(requests.throttleCheckTimeoutId, null, "an idle queue has no timer");
  requests.destroy();
});

Deno.test("patched request queue sends a request held by the in-flight limit", async () => {
  patchRequestQueue();
  const requests = queue(1);
  const sent: number[] = [];
  requests.push(request(1, sent));
  requests.push(request(2, sent));
  assert.deepEqual(sent, [1], "the second waits for the first");
  requests.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
  assert.deepEqual(sent, [1, 2]);
  requests.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
  // The check armed while request 2 waited fires once and is not armed again.
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(requests.throttleCheckTimeoutId, null);
  requests.destroy();
});

Deno.test({
  name: "patched request queue sends a request held back by broker throttling once it ends",
  sanitizeOps: false,
  fn: async () => {
    patchRequestQueue();
    const requests = queue(5);
    const sent: number[] = [];
    requests.maybeThrottle(30);
    requests.push(request(1, sent));
    assert.deepEqual(sent, [], "throttled");
    assert.notEqual(requests.throttleCheckTimeoutId, null, "a check waits for the throttle");
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepEqual(sent, [1]);
    requests.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    assert.equal(requests.throttleCheckTimeoutId, null);
    requests.destroy();
  },
});

Deno.test("patched request queue checks timeouts only while requests are in flight", async () => {
  patchRequestQueue();
  const requests = queue(5, 40);
  requests.scheduleRequestTimeoutCheck();
  assert.equal(requests.requestTimeoutIntervalId, undefined, "no check on an idle connection");
  const sent: number[] = [];
  const failures: unknown[] = [];
  requests.push(request(1, sent, failures));
  assert.notEqual(requests.requestTimeoutIntervalId, undefined, "a request in flight is checked");
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(failures.length, 1, "the unanswered request timed out");
  assert.match(String(failures[0]), /Request Fetch\(key: 1, version: 11\) timed out/);
  assert.equal(requests.requestTimeoutIntervalId, undefined, "the check stops once idle");
  requests.destroy();
});

Deno.test({
  name: "kafka bus: idle subscriptions arm no request-queue timers (kafkajs #1556 patched)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const bus = testKafkaBus();
    const prototype = requestQueuePrototype();
    const schedule = prototype.scheduleCheckPendingRequests;
    let armed = 0;
    try {
      const topic = uniqueName("idle");
      await bus.ensureTopics([{ topic, partitions: 1, retentionMs: 60_000 }]);
      const subscriptions = await Promise.all(
        [0, 1, 2].map(() =>
          bus.subscribe({
            groupId: uniqueName("idle"),
            topics: [topic],
            handler: () => Promise.resolve(),
          })
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      prototype.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
        const before = this.throttleCheckTimeoutId;
        schedule.call(this);
        if (!before && this.throttleCheckTimeoutId) armed++;
      };
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      prototype.scheduleCheckPendingRequests = schedule;
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
    } finally {
      prototype.scheduleCheckPendingRequests = schedule;
      await bus.close();
    }
    // Unpatched, each connection re-arms its ~1 ms check all the time: hundreds per second.
    assert.ok(armed < 10, `${armed} request-queue timers armed in 1 s by 3 idle subscriptions`);
  },
});
