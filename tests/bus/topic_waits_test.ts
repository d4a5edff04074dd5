import assert from "node:assert/strict";
import { readOffsetsRetrying, waitForLeaders } from "../../core/bus/topic_waits.ts";
import { createLogger, type Logger } from "../../core/log.ts";

function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("test.topics", {
    level: "debug",
    sink: (line) => lines.push(JSON.parse(line)),
  });
  return { log, lines };
}

Deno.test("offsets: a transient failure is tried again after growing delays", async () => {
  const { log, lines } = capture();
  let calls = 0;
  const offsets = await readOffsetsRetrying("t", () => {
    calls++;
    return calls < 3 ? Promise.reject(new Error("Leader moving")) : Promise.resolve(["0:7"]);
  }, { log });
  assert.deepEqual(offsets, ["0:7"]);
  assert.equal(calls, 3);
  const retries = lines.filter((line) => line.message === "Retrying end offsets");
  assert.deepEqual(retries.map((line) => line.delay), [50, 100]);
  assert.deepEqual(retries.map((line) => line.topic), ["t", "t"]);
});

Deno.test("offsets: a failure that is not retriable is thrown at once", async () => {
  const { log } = capture();
  let calls = 0;
  const failure = new Error("Topic does not exist");
  await assert.rejects(
    () =>
      readOffsetsRetrying("t", () => {
        calls++;
        return Promise.reject(failure);
      }, { log, retriable: (error) => error !== failure }),
    (error) => error === failure,
  );
  assert.equal(calls, 1);
});

Deno.test("offsets: past the time budget the error names the topic, tries and cause", async () => {
  const { log } = capture();
  const cause = new Error("Broker busy");
  await assert.rejects(
    () => readOffsetsRetrying("t", () => Promise.reject(cause), { log, timeoutMs: 0 }),
    (error: Error) => {
      assert.match(error.message, /^End offsets of t could not be read within 0 ms \(\d+ tries\)/);
      assert.match(error.message, /: Broker busy$/);
      assert.equal(error.cause, cause);
      return true;
    },
  );
});

Deno.test("leaders: a failed look counts as not ready and the wait goes on", async () => {
  let calls = 0;
  await waitForLeaders(["a"], () => {
    calls++;
    if (calls === 1) return Promise.reject(new Error("No metadata"));
    return Promise.resolve(calls === 3);
  });
  assert.equal(calls, 3);
});

Deno.test("leaders: past the time budget the error names the topics and the last failure", async () => {
  await assert.rejects(
    () =>
      waitForLeaders(["a", "b"], () => Promise.reject(new Error("No leader")), { timeoutMs: 0 }),
    { message: "Topics a, b had no leader within 0 ms: No leader" },
  );
  await assert.rejects(
    () => waitForLeaders(["a"], () => Promise.resolve(false), { timeoutMs: 0 }),
    { message: "Topics a had no leader within 0 ms" },
  );
});
