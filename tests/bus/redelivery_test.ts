import assert from "node:assert/strict";
import type { BusRecord } from "../../core/bus/bus.ts";
import { deliverUntilHandled } from "../../core/bus/redelivery.ts";
import { createLogger } from "../../core/log.ts";

const record: BusRecord = {
  topic: "t",
  partition: 0,
  offset: "7",
  key: null,
  value: "{}",
  headers: {},
};

Deno.test("redelivery: a failing handler gets the record again after growing delays", async () => {
  const lines: string[] = [];
  const waits: number[] = [];
  let calls = 0;
  const handled = await deliverUntilHandled(record, {
    handler: () => {
      calls++;
      return calls < 3 ? Promise.reject(new Error("Transient failure")) : Promise.resolve();
    },
    backoff: { initialMs: 100, maxMs: 150, jitter: 0 },
    log: createLogger("test.redelivery", { level: "warn", sink: (line) => lines.push(line) }),
    stopping: () => false,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  assert.equal(handled, true);
  assert.equal(calls, 3);
  assert.deepEqual(waits, [100, 150]);
  assert.equal(lines.length, 2);
  const warning = JSON.parse(lines[1]!);
  assert.equal(warning.message, "Handler failed; the record will be delivered again");
  assert.equal(warning.offset, "7");
  assert.equal(warning.attempt, 2);
  assert.equal(warning.retryInMs, 150);
  assert.equal(warning.error, "Transient failure");
});

Deno.test("redelivery: a subscription that stops while waiting gives the record up", async () => {
  let stopping = false;
  let calls = 0;
  const handled = await deliverUntilHandled(record, {
    handler: () => {
      calls++;
      return Promise.reject(new Error("Down"));
    },
    backoff: { initialMs: 10, jitter: 0 },
    log: createLogger("test.redelivery", { level: "error" }),
    stopping: () => stopping,
    sleep: () => {
      stopping = true;
      return Promise.resolve();
    },
  });
  assert.equal(handled, false);
  assert.equal(calls, 1, "no delivery after the stop");
});

Deno.test("redelivery: a failure after the stop is not delivered again nor logged", async () => {
  const lines: string[] = [];
  const handled = await deliverUntilHandled(record, {
    handler: () => Promise.reject(new Error("Closing")),
    backoff: {},
    log: createLogger("test.redelivery", { level: "debug", sink: (line) => lines.push(line) }),
    stopping: () => true,
    sleep: () => Promise.reject(new Error("Must not wait")),
  });
  assert.equal(handled, false);
  assert.deepEqual(lines, []);
});

Deno.test("redelivery: without a backoff the delays are both Kafka clients' exact default", async () => {
  const waits: number[] = [];
  let calls = 0;
  await deliverUntilHandled(record, {
    handler: () => ++calls < 8 ? Promise.reject(new Error("Transient failure")) : Promise.resolve(),
    log: createLogger("test.redelivery", { level: "error", sink: () => {} }),
    stopping: () => false,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  assert.deepEqual(waits, [100, 200, 400, 800, 1_600, 3_200, 5_000]);
});
