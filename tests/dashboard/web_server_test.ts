import assert from "node:assert/strict";
import { createLogger } from "../../core/log.ts";
import { DashboardStore } from "../../core/dashboard/store.ts";
import { startWebDashboard } from "../../core/dashboard/web_server.ts";
import { buildReport } from "../../core/dashboard/report.ts";
import { sampleInputs, trade } from "./_fixtures.ts";

function sampleStore(): DashboardStore {
  const store = new DashboardStore();
  for (const input of sampleInputs()) store.apply(input);
  return store;
}

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

Deno.test("SSE sends the view at once and again after a change", async () => {
  const store = sampleStore();
  const web = await startWebDashboard(store, {
    port: 0,
    log: createLogger("test", { level: "error" }),
    throttleMs: 20,
  });
  const abort = new AbortController();
  const timeout = setTimeout(() => abort.abort(), 5000);
  try {
    const response = await fetch(new URL("/events", web.url), { signal: abort.signal });
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const nextView = async () => {
      while (!text.includes("\n\n")) text += (await reader.read()).value ?? "";
      const event = text.slice(0, text.indexOf("\n\n"));
      text = text.slice(text.indexOf("\n\n") + 2);
      const data = event.split("\n").find((line) => line.startsWith("data: "))!;
      return JSON.parse(data.slice(6));
    };
    const first = await nextView();
    assert.equal(first.trades.length, 4);
    store.apply({
      kind: "ledger",
      event: trade("scalper", {
        id: "s2",
        side: "sell",
        productId: "SOL-USD",
        quantity: "100",
        price: "18",
        minutes: 61,
      }),
    });
    const second = await nextView();
    assert.equal(second.trades.length, 5);
    assert.equal(second.trades[0].eventId, "trade-s2");
    await reader.cancel();
  } finally {
    clearTimeout(timeout);
    await web.close();
  }
});
