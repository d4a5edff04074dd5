import assert from "node:assert/strict";
import {
  renderPlainSummary,
  renderTerminal,
  TerminalDashboard,
} from "../../core/dashboard/terminal.ts";
import { buildReport } from "../../core/dashboard/report.ts";
import { formatLeaderboard } from "../../core/arena/leaderboard.ts";
import {
  formatCost,
  formatSeconds,
  layoutTable,
  sparkline,
  stripAnsi,
  visibleWidth,
} from "../../core/dashboard/format.ts";
import { buildDashboardView } from "../../core/dashboard/view.ts";
import {
  at,
  marginInputs,
  opened,
  price,
  reasoning,
  replayStream,
  sampleInputs,
  stateOf,
  trade,
  usage,
} from "./_fixtures.ts";

const GREEN = "\x1b[32m";
const RED = "\x1b[31m";

Deno.test("terminal view keeps every line within the width", () => {
  const state = stateOf(sampleInputs());
  for (const width of [100, 72, 45]) {
    const text = renderTerminal(state, { width });
    for (const line of text.split("\n")) {
      assert.ok(visibleWidth(line) <= width, `line wider than ${width}: ${stripAnsi(line)}`);
    }
  }
});

Deno.test("terminal view shows a card per agent with cash, value, return, positions and trades", () => {
  const text = stripAnsi(renderTerminal(stateOf(sampleInputs()), { width: 100 }));
  for (const name of ["#1 momentum", "#2 brainrot-daytrader", "#3 scalper"]) {
    assert.ok(text.includes(`┌─ ${name} `), `card for ${name}`);
  }
  const cardRows = text.split("\n").filter((line) => line.startsWith("│"));
  assert.match(
    cardRows.find((line) => line.includes("cash"))!,
    /\$59,976\.00.*\$100,100\.00.*\$59,976\.00/,
  );
  assert.match(
    cardRows.find((line) => line.includes("value"))!,
    /\$103,976\.00.*\$100,100\.00.*\$95,976\.00/,
  );
  assert.match(cardRows.find((line) => line.includes("return"))!, /\+3\.98%.*\+0\.10%.*-4\.02%/);
  assert.match(
    cardRows.find((line) => line.includes("positions"))!,
    /positions\s+1 │.*positions\s+0 │/,
  );
  assert.match(cardRows.find((line) => line.includes("trades"))!, /trades\s+1 │.*trades\s+2 │/);
});

Deno.test("terminal leaderboard is sorted by equity and names each agent's model", () => {
  const state = stateOf([
    ...sampleInputs(),
    { kind: "activity", event: usage("scalper", "gpt-5-nano", 2) },
  ]);
  const text = stripAnsi(renderTerminal(state, { width: 100 }));
  const board = text.slice(text.indexOf("LEADERBOARD"), text.indexOf("POSITIONS"));
  const rows = board.split("\n").filter((line) => /^\s*\d /.test(line));
  assert.deepEqual(rows.map((row) => row.trim().split(/\s+/).slice(0, 3)), [
    ["1", "momentum", "rules"],
    ["2", "brainrot-daytrader", "rules"],
    ["3", "scalper", "gpt-5-nano"],
  ]);
  assert.match(board, /buy-and-hold/);
});

Deno.test("terminal trade log is newest first with buys green and sells red", () => {
  const text = renderTerminal(stateOf(sampleInputs()), { width: 100 });
  const log = text.slice(text.indexOf("TRADES")).split("\n").slice(2);
  assert.match(stripAnsi(log[0]!), /00:30:00 brainrot-daytrader\s+SELL/);
  assert.ok(log[0]!.includes(`${RED}SELL`));
  assert.match(stripAnsi(log[3]!), /00:01:00 momentum\s+BUY/);
  assert.ok(log[3]!.includes(`${GREEN}BUY`));
});

Deno.test("terminal positions table shows cost basis, market value and P&L", () => {
  const text = stripAnsi(renderTerminal(stateOf(sampleInputs()), { width: 100 }));
  assert.match(
    text,
    /momentum\s+BTC-USD\s+long\s+10\s+\$40,000\.00\s+\$44,000\.00\s+\$4,000\.00 \(\+10\.00%\)/,
  );
  assert.match(
    text,
    /scalper\s+SOL-USD\s+long\s+2,000\s+\$40,000\.00\s+\$36,000\.00\s+-\$4,000\.00/,
  );
});

Deno.test("terminal view without colour has no escape sequences", () => {
  const text = renderTerminal(stateOf(sampleInputs()), { width: 100, color: false });
  assert.ok(!text.includes("\x1b"));
  assert.ok(!renderPlainSummary(stateOf(sampleInputs())).includes("\x1b"));
});

Deno.test("terminal view fits a given height", () => {
  const text = renderTerminal(stateOf(sampleInputs()), { width: 100, height: 24 });
  assert.ok(text.split("\n").length <= 24);
  assert.match(stripAnsi(text), /LEADERBOARD/);
});

Deno.test("empty state renders a waiting message", () => {
  const text = stripAnsi(renderTerminal(stateOf(), { width: 80 }));
  assert.match(text, /connecting/);
  assert.match(text, /Waiting for the first ledger event/);
});

Deno.test("TerminalDashboard draws in the alternate screen without clearing and restores it", () => {
  const written: string[] = [];
  const state = stateOf(sampleInputs());
  const source = { state, version: 1 };
  const terminal = new TerminalDashboard(source, {
    write: (text) => written.push(text),
    size: () => ({ columns: 90, rows: 30 }),
    handleSignals: false,
    intervalMs: 60_000,
  });
  terminal.start();
  assert.ok(written[0]!.startsWith("\x1b[?1049h"), "enters the alternate screen");
  const frame = written[1]!;
  assert.ok(frame.startsWith("\x1b[H"), "cursor home");
  assert.ok(!frame.includes("\x1b[2J"), "no full clear in a frame");
  assert.ok(
    frame.split("\r\n").every((line) => line.includes("\x1b[K")),
    "clears each line's tail",
  );
  terminal.draw();
  assert.equal(written.length, 2, "nothing changed: no redraw");
  source.version = 2;
  terminal.draw();
  assert.equal(written.length, 3);
  terminal.stop();
  assert.equal(written.at(-1), "\x1b[?25h\x1b[?1049l", "shows the cursor and leaves");
});

Deno.test("TerminalDashboard plain mode prints summaries only when something changed", () => {
  const written: string[] = [];
  const source = { state: stateOf(sampleInputs()), version: 1 };
  const terminal = new TerminalDashboard(source, {
    mode: "plain",
    write: (text) => written.push(text),
    intervalMs: 60_000,
  });
  terminal.start();
  terminal.draw();
  terminal.stop();
  assert.equal(written.length, 1);
  assert.match(written[0]!, /#1 momentum \(rules\) equity=\$103,976\.00 return=\+3\.98%/);
  assert.ok(!written[0]!.includes("\x1b"));
});

Deno.test("TerminalDashboard restores the terminal on an uncaught error", () => {
  const written: string[] = [];
  const terminal = new TerminalDashboard({ state: stateOf(sampleInputs()), version: 1 }, {
    write: (text) => written.push(text),
    size: () => ({ columns: 80, rows: 24 }),
    intervalMs: 60_000,
    note: "web http://127.0.0.1:8787/",
  });
  terminal.start();
  assert.match(stripAnsi(written[1]!), /web http:\/\/127\.0\.0\.1:8787\//);
  globalThis.dispatchEvent(new ErrorEvent("error", { message: "boom" }));
  assert.equal(written.at(-1), "\x1b[?25h\x1b[?1049l");
  terminal.stop();
  assert.equal(written.filter((text) => text === "\x1b[?25h\x1b[?1049l").length, 1);
});

/** A fixed busy state: three agents after 400 minutes, with reasoning, at a long-name model. */
function busyState() {
  return stateOf([
    ...replayStream({ minutes: 400 }).inputs,
    { kind: "activity", event: usage("momentum", "gpt-5-nano", 399) },
    {
      kind: "activity",
      event: reasoning(
        "momentum",
        "BTC broke above its 20-minute high while volume rose; buying 0.5 BTC with a stop " +
          "under the breakout level. ETH lags, so no position there yet.",
        399,
      ),
    },
    // A big loser so that P&L cells are as wide as they get (`-15.70%` and more).
    { kind: "price", tick: price("SOL-USD", "17.10", 400) },
    { kind: "snapshot", snapshot: { tick: 400, time: at(400), source: "replay" } },
    { kind: "status", status: "live" },
  ]);
}

for (const [width, height] of [[80, 24], [120, 40]] as const) {
  Deno.test(`terminal snapshot at ${width}x${height}: every section fits, no cell is cut`, () => {
    const text = stripAnsi(
      renderTerminal(busyState(), { width, height, keys: "r reasoning  q quit" }),
    );
    const lines = text.split("\n");
    assert.ok(lines.length <= height, `${lines.length} lines`);
    for (const line of lines) assert.ok(visibleWidth(line) <= width, `too wide: ${line}`);
    for (const section of ["LEADERBOARD", "POSITIONS", "TRADES"]) {
      assert.ok(lines.some((line) => line.startsWith(section)), `${section} shown`);
    }
    // Every leaderboard row and at least two trades are drawn whole.
    const board = lines.slice(lines.findIndex((line) => line.startsWith("LEADERBOARD")));
    assert.match(board[1]!, /^# agent .*equity +return +max dd +sharpe/);
    for (const rank of [1, 2, 3]) assert.ok(board.some((line) => line.startsWith(`${rank} `)));
    assert.match(text, /buy-and-hold/);
    const trades = lines.slice(lines.findIndex((line) => line.startsWith("TRADES")) + 1);
    assert.match(trades[0]!, /latency$/);
    assert.ok(trades.slice(1).filter((line) => /(BUY|SELL).* \d+\.\ds$/.test(line)).length >= 2);
    // No number is cut: an ellipsis only ever follows a letter or a dash (a shortened name).
    assert.doesNotMatch(text, /[\d%$.,)]…/);
    // Sparklines: one per agent row.
    assert.equal(board.filter((line) => /[▁▂▃▄▅▆▇█]{4,}/.test(line)).length, 4);
    if (width === 120) assert.match(text, /┌─ #1 /, "cards when there is room");
    else assert.doesNotMatch(text, /┌─ #1 /, "no cards at 80x24");
  });
}

Deno.test("the reasoning pane shows each agent's latest reasoning in full", () => {
  const text = stripAnsi(renderTerminal(busyState(), { width: 80, height: 24, reasoning: true }));
  assert.match(text, /REASONING/);
  assert.match(text, /momentum tick 399 · 06:39:00/);
  assert.match(text, /BTC broke above its 20-minute high while volume rose; buying 0\.5 BTC/);
  assert.match(text, /ETH lags, so no position there yet\./);
  assert.doesNotMatch(text, /TRADES/);
});

Deno.test("r toggles the reasoning pane and q quits", () => {
  const written: string[] = [];
  let quit = 0;
  const terminal = new TerminalDashboard({ state: busyState(), version: 1 }, {
    write: (text) => written.push(text),
    size: () => ({ columns: 80, rows: 24 }),
    handleSignals: false,
    keys: false,
    intervalMs: 60_000,
    onQuit: () => quit++,
  });
  terminal.start();
  assert.match(stripAnsi(written.at(-1)!), /TRADES/);
  terminal.press("r");
  assert.match(stripAnsi(written.at(-1)!), /REASONING/);
  terminal.press("r");
  assert.match(stripAnsi(written.at(-1)!), /TRADES/);
  terminal.press("q");
  assert.equal(quit, 1);
  assert.equal(written.at(-1), "\x1b[?25h\x1b[?1049l", "the terminal is restored first");
});

Deno.test("trade latency is the snapshot-to-fill time of the trade's tick", () => {
  const filled = (id: string, minutes: number, tick?: number) => ({
    kind: "ledger" as const,
    event: {
      ...trade("momentum", {
        id,
        side: "buy",
        productId: "BTC-USD",
        quantity: "1",
        price: "4000",
        minutes,
      }),
      ...(tick === undefined ? {} : { tick }),
    },
  });
  const state = stateOf([
    { kind: "ledger", event: opened("momentum") },
    { kind: "snapshot", snapshot: { tick: 3, time: at(3), source: "live" } },
    // Tick 3's snapshot at minute 3, filled at 3:00 + 1.5 minutes: 90 s.
    filled("a", 4.5, 3),
    // Tick 5 was never seen as a snapshot: its reasoning carries the tick's market time.
    { kind: "activity", event: reasoning("momentum", "buy", 5) },
    filled("b", 5.2, 5),
    // No tick on the event: unknown.
    filled("c", 6),
  ]);
  const view = buildDashboardView(state);
  const latency = Object.fromEntries(view.trades.map((row) => [row.eventId, row.latencySeconds]));
  assert.equal(latency["trade-a"], 90);
  assert.equal(latency["trade-b"], 12);
  assert.equal(latency["trade-c"], null);
  assert.deepEqual([90, 12, null].map(formatSeconds), ["90s", "12s", "-"]);
  assert.equal(formatSeconds(0.42), "0.4s");
});

Deno.test("layoutTable drops optional columns and shortens names, never numbers", () => {
  const lines = layoutTable([
    { header: "agent", cells: ["brainrot-daytrader"], minWidth: 8 },
    { header: "P&L", cells: ["-$1,234.56 (-15.70%)"], align: "right" },
    { header: "fee", cells: ["$1.50"], align: "right", priority: 1 },
  ], 30);
  assert.deepEqual(lines, [
    "agent                      P&L",
    "brainrot… -$1,234.56 (-15.70%)",
  ]);
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8), "▁▂▃▄▅▆▇█");
  assert.equal(sparkline([5, 5, 5], 3), "▄▄▄");
});

Deno.test("the final leaderboard fits 80 columns and keeps every figure", () => {
  const state = busyState();
  const report = buildReport(state).json;
  const text = formatLeaderboard(report);
  for (const line of text.split("\n")) assert.ok(line.length <= 80, `too wide: ${line}`);
  for (const row of report.leaderboard) {
    const lines = text.split("\n").filter((line) => line.startsWith(`${row.rank} `));
    assert.equal(lines.length, 2, "a row in each table");
    // A model without cost (rules) shows a dash, not $0.0000.
    assert.ok(lines[0]!.endsWith(formatCost(row.costUsd)), lines[0]);
    if (row.costUsd === 0) assert.ok(lines[0]!.endsWith("—"), lines[0]);
    assert.ok(lines[1]!.includes(`${Number(row.feesPct).toFixed(2)}%`));
  }
  assert.equal(text.split("\n").filter((line) => /^- +buy-and-hold/.test(line)).length, 2);
});

Deno.test("terminal trade log names engine exits and leverage; positions show a short's side", () => {
  const state = stateOf(marginInputs());
  const text = stripAnsi(renderTerminal(state, { width: 120 }));
  assert.match(text, /COVER STOP\s+10\s+BTC-USD\s+4,210\.00/);
  assert.match(text, /SELL LIQ\s+100\s+SOL-USD\s+17\.90/);
  assert.match(text, /BUY 10x\s+100\s+SOL-USD/);
  assert.match(text, /hedger\s+BTC-USD\s+short 5x\s+5\s+\$21,500\.00/);
  assert.match(
    renderPlainSummary(state),
    /last trade: \S+ hedger SHORT 5x 5 BTC-USD @ 4,300\.00/,
  );
});
