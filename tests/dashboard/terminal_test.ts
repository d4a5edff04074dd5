import assert from "node:assert/strict";
import { applyDashboardInputs, createDashboardState } from "../../core/dashboard/state.ts";
import {
  renderPlainSummary,
  renderTerminal,
  TerminalDashboard,
} from "../../core/dashboard/terminal.ts";
import { stripAnsi, visibleWidth } from "../../core/dashboard/format.ts";
import { sampleInputs, usage } from "./_fixtures.ts";

const GREEN = "\x1b[32m";
const RED = "\x1b[31m";

function sampleState() {
  const state = createDashboardState();
  applyDashboardInputs(state, sampleInputs());
  return state;
}

Deno.test("terminal view keeps every line within the width", () => {
  const state = sampleState();
  for (const width of [100, 72, 45]) {
    const text = renderTerminal(state, { width });
    for (const line of text.split("\n")) {
      assert.ok(visibleWidth(line) <= width, `line wider than ${width}: ${stripAnsi(line)}`);
    }
  }
});

Deno.test("terminal view shows a card per agent with cash, value, return, positions and trades", () => {
  const text = stripAnsi(renderTerminal(sampleState(), { width: 100 }));
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
  const state = sampleState();
  applyDashboardInputs(state, [{ kind: "activity", event: usage("scalper", "gpt-5-nano", 2) }]);
  const text = stripAnsi(renderTerminal(state, { width: 100 }));
  const board = text.slice(text.indexOf("LEADERBOARD"), text.indexOf("POSITIONS"));
  const rows = board.split("\n").filter((line) => /^\s+\d /.test(line));
  assert.deepEqual(rows.map((row) => row.trim().split(/\s+/).slice(0, 3)), [
    ["1", "momentum", "rules"],
    ["2", "brainrot-daytrader", "rules"],
    ["3", "scalper", "gpt-5-nano"],
  ]);
  assert.match(board, /buy-and-hold/);
});

Deno.test("terminal trade log is newest first with buys green and sells red", () => {
  const text = renderTerminal(sampleState(), { width: 100 });
  const log = text.slice(text.indexOf("TRADES")).split("\n").slice(1);
  assert.match(stripAnsi(log[0]!), /00:30:00 brainrot-daytrader\s+SELL/);
  assert.ok(log[0]!.includes(`${RED}SELL`));
  assert.match(stripAnsi(log[3]!), /00:01:00 momentum\s+BUY/);
  assert.ok(log[3]!.includes(`${GREEN}BUY`));
});

Deno.test("terminal positions table shows cost basis, market value and P&L", () => {
  const text = stripAnsi(renderTerminal(sampleState(), { width: 100 }));
  assert.match(
    text,
    /momentum\s+BTC-USD\s+10\s+\$40,000\.00\s+\$44,000\.00\s+\$4,000\.00 \(\+10\.00%\)/,
  );
  assert.match(text, /scalper\s+SOL-USD\s+2,000\s+\$40,000\.00\s+\$36,000\.00\s+-\$4,000\.00/);
});

Deno.test("terminal view without colour has no escape sequences", () => {
  const text = renderTerminal(sampleState(), { width: 100, color: false });
  assert.ok(!text.includes("\x1b"));
  assert.ok(!renderPlainSummary(sampleState()).includes("\x1b"));
});

Deno.test("terminal view fits a given height", () => {
  const text = renderTerminal(sampleState(), { width: 100, height: 24 });
  assert.ok(text.split("\n").length <= 24);
  assert.match(stripAnsi(text), /LEADERBOARD/);
});

Deno.test("empty state renders a waiting message", () => {
  const text = stripAnsi(renderTerminal(createDashboardState(), { width: 80 }));
  assert.match(text, /connecting/);
  assert.match(text, /Waiting for the first ledger event/);
});

Deno.test("TerminalDashboard draws in the alternate screen without clearing and restores it", () => {
  const written: string[] = [];
  const state = sampleState();
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
  const source = { state: sampleState(), version: 1 };
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
  const terminal = new TerminalDashboard({ state: sampleState(), version: 1 }, {
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
