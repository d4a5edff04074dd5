/** The terminal dashboard: a pure renderer (view + width -> text) and a flicker-free drawer. */

import type { DashboardState } from "./state.ts";
import { buildDashboardView, type DashboardView } from "./view.ts";
import {
  fit,
  formatPct,
  formatPrice,
  formatQuantity,
  formatUsd,
  signOf,
  stripAnsi,
  truncateVisible,
} from "./format.ts";

/** Options for {@linkcode renderTerminal}. */
export interface RenderTerminalOptions {
  /** Terminal columns; every line fits in it (default 100, at least 40). */
  width?: number;
  /** Terminal rows; when given, the trade log and positions are cut to fit. */
  height?: number;
  /** ANSI colours (default true). */
  color?: boolean;
  /** Most trade log lines (default 12). */
  tradeLines?: number;
  /** Extra text for the header, e.g. the web dashboard's URL. */
  note?: string;
  /** Reuse metrics younger than this in live redraws (see `DashboardViewOptions`); default 0. */
  metricsMaxAgeMs?: number;
}

const CARD_WIDTH = 30;

interface Paint {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
  yellow(text: string): string;
  inverse(text: string): string;
  signed(text: string, sign: number): string;
}

function paint(color: boolean): Paint {
  const wrap = (code: string) => (text: string) => color ? `\x1b[${code}m${text}\x1b[0m` : text;
  const green = wrap("32");
  const red = wrap("31");
  return {
    bold: wrap("1"),
    dim: wrap("2"),
    green,
    red,
    cyan: wrap("36"),
    yellow: wrap("33"),
    inverse: wrap("7"),
    signed: (text, sign) => sign > 0 ? green(text) : sign < 0 ? red(text) : text,
  };
}

/** Renders the dashboard state as terminal text; every line fits `width`. */
export function renderTerminal(state: DashboardState, options: RenderTerminalOptions = {}): string {
  const view = buildDashboardView(state, {
    maxPoints: 2,
    tradeLimit: 50,
    activityLimit: 0,
    metricsMaxAgeMs: options.metricsMaxAgeMs,
  });
  return renderTerminalView(view, options);
}

/** Renders an already derived view as terminal text. */
export function renderTerminalView(
  view: DashboardView,
  options: RenderTerminalOptions = {},
): string {
  const width = Math.max(40, Math.floor(options.width ?? 100));
  const p = paint(options.color ?? true);
  const lines: string[] = [];

  // Header: title, status, market clock.
  const status = view.status === "live"
    ? p.green("● live")
    : view.status === "finished"
    ? p.cyan("■ finished")
    : view.status === "catching_up"
    ? p.yellow("◌ catching up")
    : p.yellow("◌ connecting");
  const clock = view.clock.time
    ? view.clock.time.replace("T", " ").replace(/\.\d+Z$|Z$/, "Z")
    : "—";
  const tick = view.clock.tick === null ? "" : `  tick ${view.clock.tick}`;
  const source = view.clock.source ? `  ${view.clock.source}` : "";
  lines.push(
    `${p.bold(p.inverse(" DAYTRADING AGENTS ARENA "))} ${status}  ${
      p.dim("market")
    } ${clock}${tick}${p.dim(source)}`,
  );
  // The rule under the header carries the note (e.g. the web dashboard's URL).
  const note = options.note ? truncateVisible(` ${options.note} `, width - 2) : "";
  lines.push(
    note
      ? p.dim("──") + p.cyan(note) + p.dim("─".repeat(Math.max(0, width - 2 - [...note].length)))
      : p.dim("─".repeat(width)),
  );

  // Agent cards, as many per row as fit.
  if (view.agents.length === 0) {
    lines.push(p.dim("Waiting for the first ledger event…"));
  }
  const perRow = Math.max(1, Math.floor((width + 1) / (CARD_WIDTH + 1)));
  for (let start = 0; start < view.agents.length; start += perRow) {
    const row = view.agents.slice(start, start + perRow).map((agent) => {
      const inner = CARD_WIDTH - 2;
      const title = truncateVisible(`─ #${agent.rank} ${agent.name} `, inner);
      const top = `┌${title}${"─".repeat(Math.max(0, inner - [...title].length))}┐`;
      const field = (label: string, value: string) =>
        `│${fit(` ${label}`, 10)}${fit(value, inner - 11, "right")} │`;
      const sign = signOf(agent.returnPct);
      return [
        p.bold(top),
        field("cash", formatUsd(agent.portfolio.cash)),
        field("value", formatUsd(agent.portfolio.equity)),
        field("return", p.signed(formatPct(agent.returnPct), sign)),
        field("positions", String(agent.portfolio.positions.length)),
        field("trades", String(agent.tradeCount)),
        `└${"─".repeat(inner)}┘`,
      ];
    });
    for (let line = 0; line < 7; line++) {
      lines.push(row.map((card) => card[line]!).join(" "));
    }
  }

  // Leaderboard.
  lines.push("");
  lines.push(p.bold("LEADERBOARD"));
  const leaderColumns: [string, number, "left" | "right"][] = [
    ["#", 3, "right"],
    ["agent", 20, "left"],
    ["model", 14, "left"],
    ["equity", 15, "right"],
    ["return", 9, "right"],
    ["max dd", 8, "right"],
    ["sharpe 1h", 9, "right"],
    ["trades", 7, "right"],
    ["cost", 9, "right"],
  ];
  const row = (cells: string[]) =>
    cells.map((cell, i) => fit(cell, leaderColumns[i]![1], leaderColumns[i]![2])).join(" ");
  lines.push(p.dim(row(leaderColumns.map(([name]) => name))));
  for (const agent of view.agents) {
    lines.push(row([
      String(agent.rank),
      agent.name,
      agent.model,
      formatUsd(agent.portfolio.equity),
      p.signed(formatPct(agent.returnPct), signOf(agent.returnPct)),
      `${Number(agent.maxDrawdownPct).toFixed(2)}%`,
      agent.sharpe === null ? "—" : agent.sharpe.toFixed(2),
      String(agent.tradeCount),
      formatUsd(agent.costUsd),
    ]));
  }
  if (view.benchmark) {
    lines.push(p.dim(row([
      "",
      view.benchmark.name,
      "",
      "",
      formatPct(view.benchmark.returnPct),
      `${Number(view.benchmark.maxDrawdownPct).toFixed(2)}%`,
      view.benchmark.sharpe === null ? "—" : view.benchmark.sharpe.toFixed(2),
      "",
      "",
    ])));
  }

  // Positions.
  const positions = view.agents.flatMap((agent) =>
    agent.portfolio.positions.map((position) => ({ agent: agent.name, position }))
  );
  const positionLines: string[] = [];
  const posColumns: [string, number, "left" | "right"][] = [
    ["agent", 20, "left"],
    ["ticker", 12, "left"],
    ["qty", 14, "right"],
    ["cost basis", 14, "right"],
    ["mkt value", 14, "right"],
    ["P&L", 20, "right"],
  ];
  const posRow = (cells: string[]) =>
    cells.map((cell, i) => fit(cell, posColumns[i]![1], posColumns[i]![2])).join(" ");
  positionLines.push(p.dim(posRow(posColumns.map(([name]) => name))));
  for (const { agent, position } of positions) {
    const sign = signOf(position.unrealizedPnl);
    positionLines.push(posRow([
      agent,
      position.productId,
      formatQuantity(position.quantity),
      formatUsd(position.costBasis),
      formatUsd(position.marketValue),
      p.signed(
        `${formatUsd(position.unrealizedPnl)} (${formatPct(position.unrealizedPnlPct)})`,
        sign,
      ),
    ]));
  }
  if (positions.length === 0) positionLines.push(p.dim("No open positions"));

  // Trade log, newest first.
  const tradeLines: string[] = [];
  for (const trade of view.trades) {
    const side = trade.side === "buy" ? p.green("BUY ") : p.red("SELL");
    const time = trade.time.slice(11, 19);
    tradeLines.push(
      `${p.dim(time)} ${fit(trade.agent, 18)} ${side} ${
        fit(formatQuantity(trade.quantity), 12, "right")
      } ${fit(trade.productId, 10)} @ ${fit(formatPrice(trade.fillPrice), 12, "right")}  ${
        fit(formatUsd(trade.notional), 13, "right")
      } ${p.dim(`fee ${formatUsd(trade.fee)}`)}`,
    );
  }
  if (tradeLines.length === 0) tradeLines.push(p.dim("No trades yet"));

  // Fit positions and trades into the remaining height.
  let tradeBudget = options.tradeLines ?? 12;
  let positionBudget = positionLines.length;
  if (options.height !== undefined) {
    const remaining = Math.max(0, options.height - lines.length - 4);
    positionBudget = Math.min(positionLines.length, Math.max(2, Math.floor(remaining / 2)));
    tradeBudget = Math.min(tradeBudget, Math.max(1, remaining - positionBudget));
  }
  lines.push("");
  lines.push(p.bold("POSITIONS"));
  lines.push(...positionLines.slice(0, positionBudget));
  lines.push("");
  lines.push(`${p.bold("TRADES")} ${p.dim("newest first")}`);
  lines.push(...tradeLines.slice(0, tradeBudget));

  const fitted = lines.map((line) => truncateVisible(line, width));
  return (options.height === undefined ? fitted : fitted.slice(0, options.height)).join("\n");
}

/** A plain-text one-block summary for logs (no ANSI): clock, leaderboard and last trade. */
export function renderPlainSummary(state: DashboardState): string {
  const view = buildDashboardView(state, { maxPoints: 2, tradeLimit: 1, activityLimit: 0 });
  const lines = [
    `[dashboard] status=${view.status} market=${view.clock.time ?? "-"} tick=${
      view.clock.tick ?? "-"
    } agents=${view.agents.length} trades=${
      view.agents.reduce((sum, agent) => sum + agent.tradeCount, 0)
    }`,
  ];
  for (const agent of view.agents) {
    lines.push(
      `  #${agent.rank} ${agent.name} (${agent.model}) equity=${
        formatUsd(agent.portfolio.equity)
      } return=${formatPct(agent.returnPct)} cash=${
        formatUsd(agent.portfolio.cash)
      } positions=${agent.portfolio.positions.length} trades=${agent.tradeCount}`,
    );
  }
  if (view.benchmark) {
    lines.push(`  buy-and-hold return=${formatPct(view.benchmark.returnPct)}`);
  }
  const last = view.trades[0];
  if (last) {
    lines.push(
      `  last trade: ${last.time} ${last.agent} ${last.side} ${
        formatQuantity(last.quantity)
      } ${last.productId} @ ${formatPrice(last.fillPrice)}`,
    );
  }
  return stripAnsi(lines.join("\n"));
}

/** Something that holds a dashboard state and says when it changed. */
export interface StateSource {
  /** Current state. */
  readonly state: DashboardState;
  /** Change counter; increases on every applied input. */
  readonly version: number;
}

/** Options for {@linkcode TerminalDashboard}. */
export interface TerminalDashboardOptions {
  /** Redraw interval in milliseconds (default 250; plain mode default 10000). */
  intervalMs?: number;
  /** `tty` draws in the alternate screen; `plain` prints summaries for logs (default tty). */
  mode?: "tty" | "plain";
  /** Writes text to the terminal (default standard output). */
  write?: (text: string) => void;
  /** Terminal size (default `Deno.consoleSize()`, else 100 x 40). */
  size?: () => { columns: number; rows: number };
  /** ANSI colours in tty mode (default true). */
  color?: boolean;
  /** Restore the terminal on SIGINT, uncaught errors and unload (default true in tty mode). */
  handleSignals?: boolean;
  /** Called after the terminal is restored on SIGINT (default exits with code 130). */
  onInterrupt?: () => void;
  /** Extra text for the header, e.g. the web dashboard's URL. */
  note?: string;
}

const ENTER_ALT_SCREEN = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
const LEAVE_ALT_SCREEN = "\x1b[?25h\x1b[?1049l";

/** Draws the dashboard at an interval: flicker-free in the alternate screen, or plain summaries. */
export class TerminalDashboard {
  #source: StateSource;
  #options: TerminalDashboardOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #drawnVersion = -1;
  #drawnSize = "";
  #drawnStale = false;
  #active = false;
  #encoder = new TextEncoder();
  #onSigint = () => {
    this.stop();
    (this.#options.onInterrupt ?? (() => Deno.exit(130)))();
  };
  #onCrash = () => this.stop();

  /** Creates a dashboard drawing `source.state`. */
  constructor(source: StateSource, options: TerminalDashboardOptions = {}) {
    this.#source = source;
    this.#options = options;
  }

  /** Enters the alternate screen (tty mode) and starts drawing. */
  start(): void {
    if (this.#active) return;
    this.#active = true;
    const tty = (this.#options.mode ?? "tty") === "tty";
    if (tty) {
      this.#write(ENTER_ALT_SCREEN);
      if (this.#options.handleSignals ?? true) {
        Deno.addSignalListener("SIGINT", this.#onSigint);
        globalThis.addEventListener("error", this.#onCrash);
        globalThis.addEventListener("unhandledrejection", this.#onCrash);
        globalThis.addEventListener("unload", this.#onCrash);
      }
    }
    const interval = this.#options.intervalMs ?? (tty ? 250 : 10_000);
    this.draw();
    this.#timer = setInterval(() => this.draw(), interval);
  }

  /** Draws one frame now if anything changed (tty) or prints a summary (plain). */
  draw(): void {
    if ((this.#options.mode ?? "tty") === "plain") {
      if (this.#source.version === this.#drawnVersion) return;
      this.#drawnVersion = this.#source.version;
      this.#write(renderPlainSummary(this.#source.state) + "\n");
      return;
    }
    const { columns, rows } = this.#size();
    const sizeKey = `${columns}x${rows}`;
    if (
      this.#source.version === this.#drawnVersion && sizeKey === this.#drawnSize &&
      !this.#drawnStale
    ) return;
    this.#drawnVersion = this.#source.version;
    this.#drawnSize = sizeKey;
    // Live redraws may reuse metrics up to a second old; a stale frame is redrawn later.
    const view = buildDashboardView(this.#source.state, {
      maxPoints: 2,
      tradeLimit: 50,
      activityLimit: 0,
      metricsMaxAgeMs: 1000,
    });
    this.#drawnStale = view.metricsStale;
    const text = renderTerminalView(view, {
      width: columns,
      height: rows,
      color: this.#options.color ?? true,
      note: this.#options.note,
    });
    // Cursor home, overwrite each line and clear its tail, then clear below: no flicker.
    const frame = "\x1b[H" + text.split("\n").map((line) => `${line}\x1b[K`).join("\r\n") +
      "\x1b[J";
    this.#write(frame);
  }

  /** Stops drawing and restores the terminal (leaves the alternate screen, shows the cursor). */
  stop(): void {
    if (!this.#active) return;
    this.#active = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if ((this.#options.mode ?? "tty") === "tty") {
      this.#write(LEAVE_ALT_SCREEN);
      if (this.#options.handleSignals ?? true) {
        Deno.removeSignalListener("SIGINT", this.#onSigint);
        globalThis.removeEventListener("error", this.#onCrash);
        globalThis.removeEventListener("unhandledrejection", this.#onCrash);
        globalThis.removeEventListener("unload", this.#onCrash);
      }
    } else {
      this.draw();
    }
  }

  #size(): { columns: number; rows: number } {
    if (this.#options.size) return this.#options.size();
    try {
      return Deno.consoleSize();
    } catch {
      return { columns: 100, rows: 40 };
    }
  }

  #write(text: string): void {
    if (this.#options.write) this.#options.write(text);
    else {
      const bytes = this.#encoder.encode(text);
      for (let written = 0; written < bytes.length;) {
        written += Deno.stdout.writeSync(bytes.subarray(written));
      }
    }
  }
}
