import assert from "node:assert/strict";
import { backoffDelay, sleep } from "../core/backoff.ts";

Deno.test("backoff doubles from the initial delay up to the cap", () => {
  const exact = { initialMs: 100, maxMs: 1_000, jitter: 0 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, exact)),
    [100, 200, 400, 800, 1_000, 1_000],
  );
});

Deno.test("backoff jitter only shortens the delay, by at most its fraction", () => {
  const options = { initialMs: 1_000, maxMs: 1_000, jitter: 0.5 };
  assert.equal(backoffDelay(0, options, () => 0), 500);
  assert.equal(backoffDelay(0, options, () => 0.999_999), 1_000);
});

Deno.test("backoff defaults to 500 ms doubling to 30 s", () => {
  assert.equal(backoffDelay(0, { jitter: 0 }), 500);
  assert.equal(backoffDelay(10, { jitter: 0 }), 30_000);
});

Deno.test("sleep ends early when its signal aborts", async () => {
  const controller = new AbortController();
  const started = performance.now();
  const waiting = sleep(10_000, controller.signal);
  controller.abort();
  await waiting;
  assert.ok(performance.now() - started < 1_000);
});
