import assert from "node:assert/strict";
import { createLogger } from "../../core/log.ts";
import type { DashboardStore } from "../../core/dashboard/store.ts";
import { startWebDashboard, type WebDashboard } from "../../core/dashboard/web_server.ts";
import { buildReport } from "../../core/dashboard/report.ts";
import { applyJsonDelta, type Json, type JsonDelta } from "../../core/dashboard/web_delta.ts";
import { sampleStore, scalperSell } from "./_fixtures.ts";

Deno.test("web server serves the page, the local chart library, the view and reports", async () => {
  const store = sampleStore();
  const web = await startWebDashboard(store, {
    port: 0,
    log: createLogger("test", { level: "error" }),
  });
  try {
    assert.match(web.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(web.url);
    assert.match(page.headers.get("content-security-policy")!, /default-src 'self'/);
    const html = await page.text();
    assert.match(html, /<script src="\/vendor\/lightweight-charts.js"><\/script>/);
    const charts = await fetch(new URL("/vendor/lightweight-charts.js", web.url));
    assert.match(await charts.text(), /LightweightCharts/);
    for (const path of ["/app.js", "/styles.css"]) {
      const response = await fetch(new URL(path, web.url));
      assert.equal(response.status, 200, path);
      await response.body?.cancel();
    }
    const view = await (await fetch(new URL("/api/view", web.url))).json();
    assert.equal(view.roundTrips.length, 1, "the view carries completed round trips");
    assert.match(view.feed[0].text, /broke above its 20-minute high/);
    assert.deepEqual(view.agents.map((agent: { name: string }) => agent.name), [
      "momentum",
      "brainrot-daytrader",
      "scalper",
    ]);
    const report = await (await fetch(new URL("/report.json", web.url))).json();
    assert.deepEqual(report, buildReport(store.state).json);
    const missing = await fetch(new URL("/nope", web.url));
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /paths are/);
  } finally {
    await web.close();
  }
});

/** Reads server-sent events from a stream: name, parsed data and size in bytes. */
function eventReader(body: ReadableStream<Uint8Array>) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  return {
    async next(): Promise<{ event: string; data: Record<string, unknown>; bytes: number }> {
      while (true) {
        const end = text.indexOf("\n\n");
        if (end >= 0) {
          const chunk = text.slice(0, end);
          text = text.slice(end + 2);
          const lines = chunk.split("\n");
          const event = lines.find((line) => line.startsWith("event: "))?.slice(7);
          const data = lines.find((line) => line.startsWith("data: "))?.slice(6);
          if (!event || data === undefined) continue; // keep-alive comment
          return { event, data: JSON.parse(data), bytes: new TextEncoder().encode(chunk).length };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("The event stream ended");
        text += value;
      }
    },
    cancel: () => reader.cancel(),
  };
}

/** What an SSE test gets: the sample store, its web dashboard and a signal for its requests. */
interface SseServer {
  store: DashboardStore;
  web: WebDashboard;
  /** Aborts the test's requests after 5 s, so a missing event fails instead of hanging. */
  signal: AbortSignal;
}

/** Runs `test` against a web dashboard over the sample store that pushes changes every 20 ms. */
async function withSseServer(test: (server: SseServer) => Promise<void>): Promise<void> {
  const store = sampleStore();
  const web = await startWebDashboard(store, {
    port: 0,
    log: createLogger("test", { level: "error" }),
    throttleMs: 20,
  });
  const abort = new AbortController();
  const timeout = setTimeout(() => abort.abort(), 5000);
  try {
    await test({ store, web, signal: abort.signal });
  } finally {
    clearTimeout(timeout);
    await web.close();
  }
}

Deno.test("SSE sends the whole view on connect, then deltas that rebuild it exactly", async () => {
  await withSseServer(async ({ store, web, signal }) => {
    const response = await fetch(new URL("/events", web.url), { signal });
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const events = eventReader(response.body!);
    const first = await events.next();
    assert.equal(first.event, "view");
    let view = first.data.view as Json;
    let seq = first.data.seq as number;
    assert.equal((view as { trades: unknown[] }).trades.length, 4);
    for (const [index, id] of ["s2", "s3", "s4"].entries()) {
      store.apply({
        kind: "ledger",
        event: scalperSell({ id, quantity: "100", minutes: 61 + index }),
      });
      const next = await events.next();
      assert.equal(next.event, "delta");
      assert.equal(next.data.base, seq, "a delta applies to the view before it");
      assert.equal(next.data.seq, seq + 1);
      seq = next.data.seq as number;
      view = applyJsonDelta(view, next.data.delta as JsonDelta);
      assert.ok(
        next.bytes * 4 < first.bytes,
        `a delta (${next.bytes} B) must be far smaller than the view (${first.bytes} B)`,
      );
    }
    // The view rebuilt from deltas is the one a fresh load gets.
    const fresh = await (await fetch(new URL("/api/view", web.url))).json();
    assert.deepEqual(view, fresh);
    const trades = (view as { trades: { eventId: string }[] }).trades;
    assert.deepEqual(trades.slice(0, 3).map((t) => t.eventId), [
      "trade-s4",
      "trade-s3",
      "trade-s2",
    ]);
    const trips = (view as { roundTrips: { eventId: string }[] }).roundTrips;
    assert.equal(trips[0]!.eventId, "trade-s4", "each sell closes a round trip");
    await events.cancel();
  });
});

Deno.test("SSE keeps every client in step: a late client gets the whole view, then the same deltas", async () => {
  await withSseServer(async ({ store, web, signal }) => {
    const early = eventReader(
      (await fetch(new URL("/events", web.url), { signal })).body!,
    );
    const earlyFirst = await early.next();
    let earlyView = earlyFirst.data.view as Json;
    // A change the early client has not been sent yet, then a second client (a reconnect).
    store.apply({ kind: "ledger", event: scalperSell({ quantity: "100" }) });
    const late = eventReader(
      (await fetch(new URL("/events", web.url), { signal })).body!,
    );
    const lateFirst = await late.next();
    assert.equal(lateFirst.event, "view");
    const caughtUp = await early.next();
    assert.equal(caughtUp.event, "delta");
    assert.equal(caughtUp.data.seq, lateFirst.data.seq, "both clients hold the same view");
    earlyView = applyJsonDelta(earlyView, caughtUp.data.delta as JsonDelta);
    assert.deepEqual(earlyView, lateFirst.data.view);
    store.apply({
      kind: "ledger",
      event: scalperSell({ id: "s3", quantity: "100", minutes: 62 }),
    });
    const [a, b] = await Promise.all([early.next(), late.next()]);
    assert.deepEqual(a.data, b.data);
    await early.cancel();
    await late.cancel();
  });
});

Deno.test("the arena keeps the web dashboard serving after a replay until Ctrl-C", async () => {
  const arena = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../services/arena.ts", import.meta.url).pathname,
      "--replay",
      "fixtures/market",
      "--lockstep",
      "--model",
      "rules",
      "--max-ticks",
      "3",
      "--web",
      "--port",
      "0",
      "--report-dir",
      "artifacts/test-web-serving",
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).spawn();
  const lines = arena.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  try {
    let match: RegExpMatchArray | null = null;
    while (!match) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`The arena ended without serving:\n${output}`);
      output += value;
      match = output.match(/Web dashboard still serving at (http:\S+) until Ctrl-C/);
    }
    assert.match(output, /=== End of leaderboard ===[\s\S]*Web dashboard still serving/);
    const view = await (await fetch(new URL("/api/view", match[1]))).json();
    assert.equal(view.status, "finished");
    assert.equal(view.clock.tick, 3);
    arena.kill("SIGINT");
    assert.equal((await arena.status).code, 0);
  } finally {
    try {
      arena.kill();
    } catch {
      // Already exited.
    }
    await arena.status;
    await lines.cancel().catch(() => {});
    await arena.stderr.cancel().catch(() => {});
  }
});
