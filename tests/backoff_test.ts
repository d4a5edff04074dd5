import assert from "node:assert/strict";
import { backoffDelay, sleep, waitAtMost } from "../core/backoff.ts";

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

Deno.test("waitAtMost goes on after its limit, returns early when the work ends, passes a rejection on", async () => {
  const started = performance.now();
  await waitAtMost(new Promise<void>(() => {}), 30);
  const waited = performance.now() - started;
  assert.ok(waited >= 25 && waited < 1_000, `waited ${waited} ms for a hung promise`);
  const early = performance.now();
  await waitAtMost(Promise.resolve(), 5_000);
  assert.ok(performance.now() - early < 1_000, "a finished promise is not waited on");
  await assert.rejects(
    waitAtMost(Promise.reject(new Error("commit failed")), 5_000),
    /commit failed/,
  );
});
