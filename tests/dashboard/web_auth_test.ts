/** The web dashboard's token: loopback-only without one, 401 without it, the page keeps it. */

import assert from "node:assert/strict";
import { createLogger } from "../../core/log.ts";
import {
  checkDashboardAccess,
  dashboardAuthToken,
  isLoopbackHost,
  startWebDashboard,
  type WebDashboard,
} from "../../core/dashboard/web_server.ts";
import { sampleStore } from "./_fixtures.ts";
import type { AuthBrowserResult } from "./_auth_browser.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const TOKEN = "t0ken-0123456789abcdef";
const CHROMIUM = "/usr/bin/chromium";
const log = createLogger("test", { level: "error" });

async function status(url: string, init?: RequestInit): Promise<number> {
  const response = await fetch(url, init);
  await response.body?.cancel();
  return response.status;
}

Deno.test("loopback addresses are 127.0.0.0/8, ::1 and localhost", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"]) {
    assert.ok(isLoopbackHost(host), host);
  }
  for (const host of ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com", "128.0.0.1"]) {
    assert.ok(!isLoopbackHost(host), host);
  }
});

Deno.test("a non-loopback address without a token is refused with one line", () => {
  assert.equal(checkDashboardAccess("127.0.0.1", undefined), undefined);
  assert.equal(checkDashboardAccess("0.0.0.0", TOKEN), TOKEN);
  assert.throws(
    () => checkDashboardAccess("0.0.0.0", undefined),
    /^Error: The web dashboard on 0\.0\.0\.0 \(not loopback\) needs a token: pass --auth-token or set ARENA_DASHBOARD_TOKEN/,
  );
  assert.throws(() => checkDashboardAccess("0.0.0.0", "  "), /needs a token/);
  assert.throws(
    () => checkDashboardAccess("127.0.0.1", "short"),
    /token must be at least 16 characters, got 5/,
  );
});

Deno.test("the token comes from --auth-token, else ARENA_DASHBOARD_TOKEN", () => {
  const env = new Map([["ARENA_DASHBOARD_TOKEN", TOKEN]]);
  assert.equal(dashboardAuthToken("0.0.0.0", undefined, env), TOKEN);
  assert.equal(
    dashboardAuthToken("0.0.0.0", "flag-token-0123456789", env),
    "flag-token-0123456789",
  );
  assert.equal(dashboardAuthToken("127.0.0.1", undefined, new Map()), undefined);
  assert.throws(() => dashboardAuthToken("0.0.0.0", undefined, new Map()), /needs a token/);
});

Deno.test("startWebDashboard refuses 0.0.0.0 without a token and never listens", async () => {
  await assert.rejects(
    startWebDashboard(sampleStore(), { host: "0.0.0.0", port: 0, log }),
    /needs a token/,
  );
});

Deno.test("with a token, data requests and the SSE stream without it get 401", async () => {
  const web = await startWebDashboard(sampleStore(), { port: 0, log, authToken: TOKEN });
  try {
    const at = (path: string) => new URL(path, web.url).href;
    // The page and its scripts hold no data: they load, so the page can ask for the token.
    for (const path of ["/", "/app.js", "/styles.css", "/vendor/lightweight-charts.js"]) {
      assert.equal(await status(at(path)), 200, path);
    }
    for (const path of ["/api/view", "/api/auth", "/events", "/report.html", "/report.json"]) {
      assert.equal(await status(at(path)), 401, `${path} without the token`);
      assert.equal(
        await status(at(path), { headers: { authorization: "Bearer wrong-token-0123456789" } }),
        401,
        `${path} with a wrong token`,
      );
      assert.equal(await status(at(`${path}?token=${TOKEN}x`)), 401, `${path} with a longer token`);
    }
    const refused = await fetch(at("/api/view"));
    assert.equal(refused.headers.get("www-authenticate"), 'Bearer realm="arena dashboard"');
    assert.match(await refused.text(), /^Unauthorized: this dashboard needs its token/);

    const view = await fetch(at("/api/view"), { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(view.status, 200);
    assert.equal((await view.json()).agents.length, 3);
    assert.equal(await status(at(`/report.json?token=${TOKEN}`)), 200);
    assert.equal(
      await status(at("/api/auth"), { headers: { authorization: `Bearer ${TOKEN}` } }),
      204,
    );

    // EventSource cannot send headers: the stream takes ?token=.
    const stream = await fetch(at(`/events?token=${encodeURIComponent(TOKEN)}`));
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get("content-type"), "text/event-stream");
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader.read();
    assert.match(first.value ?? "", /event: view\n/);
    await reader.cancel();
  } finally {
    await web.close();
  }
});

Deno.test("bound to 0.0.0.0 with a token, unauthenticated requests get 401", async () => {
  const web: WebDashboard = await startWebDashboard(sampleStore(), {
    host: "0.0.0.0",
    port: 0,
    log,
    authToken: TOKEN,
  });
  try {
    const local = `http://127.0.0.1:${web.port}`;
    assert.equal(await status(`${local}/api/view`), 401);
    assert.equal(await status(`${local}/events`), 401);
    assert.equal(await status(`${local}/api/view?token=${TOKEN}`), 200);
  } finally {
    await web.close();
  }
});

/** Runs a deno task and returns its exit code, non-empty output lines and duration. */
async function runTask(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; lines: string[]; ms: number }> {
  const started = Date.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ARENA_DASHBOARD_TOKEN: "", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return {
    code: output.code,
    lines: text.split("\n").filter((line) => line.trim() !== ""),
    ms: Date.now() - started,
  };
}

Deno.test("deno task dashboard --host 0.0.0.0 without a token exits with one line", async () => {
  // No broker at this address: the check comes before any connection.
  const run = await runTask([
    "dashboard",
    "--host",
    "0.0.0.0",
    "--no-tty",
    "--bootstrap-servers",
    "127.0.0.1:1",
  ]);
  assert.equal(run.code, 1, run.lines.join("\n"));
  assert.equal(run.lines.length, 1, run.lines.join("\n"));
  assert.match(
    run.lines[0]!,
    /^dashboard: The web dashboard on 0\.0\.0\.0 \(not loopback\) needs a token: pass --auth-token or set ARENA_DASHBOARD_TOKEN/,
  );
});

Deno.test("deno task arena --host 0.0.0.0 without a token exits with one line", async () => {
  const run = await runTask([
    "arena",
    "--replay",
    "fixtures/market",
    "--model",
    "rules",
    "--host",
    "0.0.0.0",
    "--no-tty",
  ]);
  assert.equal(run.code, 1, run.lines.join("\n"));
  assert.equal(run.lines.length, 1, run.lines.join("\n"));
  assert.match(
    run.lines[0]!,
    /^arena: The web dashboard on 0\.0\.0\.0 \(not loopback\) needs a token/,
  );
});

Deno.test("browser: the page asks for the token once, keeps it for the session, takes ?token=", async () => {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `Chromium must be installed at ${CHROMIUM} (Debian: apt-get install -y chromium)`,
    );
  }
  const web = await startWebDashboard(sampleStore(), { port: 0, log, authToken: TOKEN });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./_auth_browser.ts", import.meta.url).pathname, web.url, TOKEN],
      stdout: "piped",
      stderr: "inherit",
      signal: AbortSignal.timeout(45_000),
    }).output();
    const line = new TextDecoder().decode(output.stdout).trim().split("\n").pop() ?? "";
    const result = JSON.parse(line) as AuthBrowserResult | { step: "error"; message: string };
    if (result.step === "error") throw new Error(`Browser driver failed: ${result.message}`);
    assert.deepEqual(result.withoutToken, { formShown: true, status: "token needed", rows: 0 });
    assert.deepEqual(result.wrongToken, { message: "That token was refused.", rows: 0 });
    assert.equal(result.rightToken.rows, 3);
    assert.equal(result.rightToken.formHidden, true);
    assert.equal(result.rightToken.reportLink, `/report.html?token=${TOKEN}`);
    assert.deepEqual(result.reloaded, { rows: 3, formShown: false }, "kept for the session");
    assert.deepEqual(result.fromAddress, { rows: 3, search: "", formShown: false });
    assert.ok(result.unauthorized.includes("/api/auth"), result.unauthorized.join(" "));
    assert.deepEqual(result.openDataRequests, [], "every data request carried the token");
    assert.deepEqual(result.pageErrors, []);
  } finally {
    await web.close();
  }
});
