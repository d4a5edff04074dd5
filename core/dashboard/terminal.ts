/** The terminal dashboard: a pure renderer (view + width -> text) and a flicker-free drawer. */

import type { DashboardState } from "./state.ts";
import {
  type AgentView,
  buildDashboardView,
  type DashboardView,
  type DashboardViewOptions,
  tradeLabel,
  type TradeView,
} from "./view.ts";
import {
  fit,
  formatPct,
  formatPrice,
  formatQuantity,
  formatSeconds,
  formatUsd,
  layoutTable,
  signOf,
  sparkline,
  stripAnsi,
  type TableColumn,
  truncateVisible,
  visibleWidth,
  wrapText,
} from "./format.ts";

/** Options for {@linkcode renderTerminal}. */
export interface RenderTerminalOptions {
  /** Terminal columns; every line fits in it (default 100, at least 40). */
  width?: number;
  /** Terminal rows; when given, sections are sized to fit and cards shown only if room. */
  height?: number;
  /** ANSI colours (default true). */
  color?: boolean;
  /** Most trade log lines (default 12). */
  tradeLines?: number;
  /** Extra text for the header, e.g. the web dashboard's URL. */
  note?: string;
  /** Show each agent's latest reasoning instead of positions and trades. */
  reasoning?: boolean;
  /** Key help shown on the rule under the header, e.g. `r reasoning  q quit`. */
  keys?: string;
  /** Ignored: metrics are always exact (kept so older callers compile). */
  metricsMaxAgeMs?: number;
}

/** Options of the view the terminal draws: no price charts, a short equity curve per agent. */
export const TERMINAL_VIEW_OPTIONS: DashboardViewOptions = {
  maxPoints: 48,
  tradeLimit: 50,
  activityLimit: 0,
  textLimit: 2000,
  withProducts: false,
};

const CARD_WIDTH = 30;
const CARD_LINES = 7;

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
  return renderTerminalView(buildDashboardView(state, TERMINAL_VIEW_OPTIONS), options);
}

/**
 * Renders an already derived view as terminal text: header, agent cards when there is room, the
 * leaderboard with an equity sparkline per agent, then positions and the trade log (or each
 * agent's latest reasoning). Tables drop optional columns rather than cut a cell.
 */
export function renderTerminalView(
  view: DashboardView,
  options: RenderTerminalOptions = {},
): string {
  const width = Math.max(40, Math.floor(options.width ?? 100));
  const height = options.height;
  const p = paint(options.color ?? true);

  const head = [headerLine(view, width, p), ruleLine(width, p, options)];
  const board = leaderboardLines(view, width, p);
  const cards = cardLines(view, width, p);
  const lower = options.reasoning
    ? reasoningSection(view, width, p)
    : [positionsSection(view, width, p), tradesSection(view, width, p)];

  // Fixed lines: header, leaderboard, and each lower section's title and table header.
  const fixed = head.length + board.length + lower.reduce((sum, part) => sum + part.head.length, 0);
  let room = height === undefined ? Infinity : height - fixed;
  const gaps = lower.length;
  const showCards = cards.length > 0 &&
    (height === undefined || room - cards.length - gaps >= 4 + 2 * lower.length);
  if (showCards) room -= cards.length;
  const spaced = height === undefined || room - gaps >= 2 * lower.length;
  if (spaced) room -= gaps;

  // Share the remaining rows: each section gets what it needs up to an even share.
  const budgets = lower.map(() => 0);
  const wants = lower.map((part, index) =>
    index === lower.length - 1 && !options.reasoning
      ? Math.min(part.body.length, options.tradeLines ?? 12)
      : part.body.length
  );
  if (room === Infinity) wants.forEach((want, index) => budgets[index] = want);
  else {
    let left = Math.max(0, room);
    for (let pass = 0; pass < 2 && left > 0; pass++) {
      const open = wants.map((want, index) => want - budgets[index]!).filter((need) => need > 0);
      if (open.length === 0) break;
      const share = Math.max(1, Math.floor(left / open.length));
      wants.forEach((want, index) => {
        const add = Math.min(want - budgets[index]!, share, left);
        budgets[index]! += add;
        left -= add;
      });
    }
  }

  const lines = [...head, ...(showCards ? cards : []), ...board];
  lower.forEach((part, index) => {
    if (spaced) lines.push("");
    lines.push(...part.head, ...part.body.slice(0, budgets[index]));
  });
  const fitted = lines.map((line) => truncateVisible(line, width));
  return (height === undefined ? fitted : fitted.slice(0, height)).join("\n");
}

function headerLine(view: DashboardView, width: number, p: Paint): string {
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
  const full = `${p.bold(p.inverse(" DAYTRADING AGENTS ARENA "))} ${status}  ${
    p.dim("market")
  } ${clock}${tick}${p.dim(source)}`;
  if (visibleWidth(full) <= width) return full;
  // Narrow: the shorter title and no labels, so the clock and tick stay whole.
  return `${p.bold(p.inverse(" ARENA "))} ${status}  ${clock}${tick}${p.dim(source)}`;
}

/** The rule under the header: the note (e.g. the web URL) on the left, key help on the right. */
function ruleLine(width: number, p: Paint, options: RenderTerminalOptions): string {
  const note = options.note ? ` ${options.note} ` : "";
  const keys = options.keys ? ` ${options.keys} ` : "";
  const room = width - 4;
  const left = truncateVisible(
    note,
    Math.max(0, room - (keys.length <= room / 2 ? keys.length : 0)),
  );
  const right = visibleWidth(left) + keys.length <= room ? keys : "";
  const fill = Math.max(0, width - 4 - visibleWidth(left) - right.length);
  return p.dim("──") + p.cyan(left) + p.dim("─".repeat(fill)) + p.yellow(right) + p.dim("──");
}

function cardLines(view: DashboardView, width: number, p: Paint): string[] {
  const perRow = Math.floor((width + 1) / (CARD_WIDTH + 1));
  if (perRow < 1 || view.agents.length === 0) return [];
  const lines: string[] = [];
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
    for (let line = 0; line < CARD_LINES; line++) {
      lines.push(row.map((card) => card[line]!).join(" "));
    }
  }
  return lines;
}

function leaderboardLines(view: DashboardView, width: number, p: Paint): string[] {
  if (view.agents.length === 0) {
    return [p.bold("LEADERBOARD"), p.dim("Waiting for the first ledger event…")];
  }
  const agents = view.agents;
  const bench = view.benchmark;
  const cell = (agentCell: (agent: AgentView) => string, benchCell = "") => [
    ...agents.map(agentCell),
    ...(bench ? [benchCell] : []),
  ];
  const drawdown = (value: string) => `${Number(value).toFixed(2)}%`;
  const sharpe = (value: number | null) => value === null ? "—" : value.toFixed(2);
  const curves = [
    ...agents.map((agent) => agent.equityCurve),
    ...(bench ? [bench.equityCurve] : []),
  ];
  const columns: TableColumn[] = [
    { header: "#", cells: cell((agent) => String(agent.rank)), align: "right" },
    {
      header: "agent",
      cells: cell((agent) => agent.name, bench?.name ?? ""),
      minWidth: 10,
    },
    { header: "model", cells: cell((agent) => agent.model), minWidth: 6, priority: 3 },
    {
      header: "equity",
      cells: cell((agent) => formatUsd(agent.portfolio.equity)),
      align: "right",
    },
    {
      header: "return",
      cells: cell(
        (agent) => p.signed(formatPct(agent.returnPct), signOf(agent.returnPct)),
        bench ? formatPct(bench.returnPct) : "",
      ),
      align: "right",
    },
    {
      header: "max dd",
      cells: cell(
        (agent) => drawdown(agent.maxDrawdownPct),
        bench ? drawdown(bench.maxDrawdownPct) : "",
      ),
      align: "right",
      priority: 1,
    },
    {
      header: "sharpe",
      cells: cell((agent) => sharpe(agent.sharpe), bench ? sharpe(bench.sharpe) : ""),
      align: "right",
      priority: 2,
    },
    {
      header: "trades",
      cells: cell((agent) => String(agent.tradeCount)),
      align: "right",
      priority: 1,
    },
    {
      header: "cost",
      cells: cell((agent) => formatUsd(agent.costUsd)),
      align: "right",
      priority: 4,
    },
    {
      header: "trend",
      cells: [],
      priority: 2,
      flex: {
        min: 6,
        max: 32,
        render: (row, size) => {
          const points = curves[row] ?? [];
          const line = sparkline(points.map((point) => point.value), size);
          const sign = points.length < 2 ? 0 : Math.sign(points.at(-1)!.value - points[0]!.value);
          return p.signed(line, sign);
        },
      },
    },
  ];
  const [header, ...rows] = layoutTable(columns, width);
  if (bench) rows[rows.length - 1] = p.dim(stripAnsi(rows[rows.length - 1]!));
  return [p.bold("LEADERBOARD"), p.dim(header!), ...rows];
}

interface Section {
  head: string[];
  body: string[];
}

function positionsSection(view: DashboardView, width: number, p: Paint): Section {
  const positions = view.agents.flatMap((agent) =>
    agent.portfolio.positions.map((position) => ({ agent: agent.name, position }))
  );
  const title = `${p.bold("POSITIONS")}${
    positions.length > 0 ? p.dim(` ${positions.length}`) : ""
  }`;
  if (positions.length === 0) return { head: [title], body: [p.dim("No open positions")] };
  const [header, ...rows] = layoutTable([
    { header: "agent", cells: positions.map(({ agent }) => agent), minWidth: 8 },
    { header: "ticker", cells: positions.map(({ position }) => position.productId), minWidth: 7 },
    {
      header: "side",
      cells: positions.map(({ position }) => {
        const side = position.leverage > 1
          ? `${position.side} ${position.leverage}x`
          : position.side;
        return position.side === "short" ? p.yellow(side) : side;
      }),
    },
    {
      header: "qty",
      cells: positions.map(({ position }) => formatQuantity(position.quantity)),
      align: "right",
    },
    {
      header: "cost basis",
      cells: positions.map(({ position }) => formatUsd(position.costBasis)),
      align: "right",
      priority: 2,
    },
    {
      header: "mkt value",
      cells: positions.map(({ position }) => formatUsd(position.marketValue)),
      align: "right",
    },
    {
      header: "P&L",
      cells: positions.map(({ position }) =>
        p.signed(
          `${formatUsd(position.unrealizedPnl)} (${formatPct(position.unrealizedPnlPct)})`,
          signOf(position.unrealizedPnl),
        )
      ),
      align: "right",
    },
    {
      header: "liq",
      cells: positions.map(({ position }) =>
        position.liquidationPrice ? formatPrice(position.liquidationPrice) : "—"
      ),
      align: "right",
      priority: 4,
    },
    {
      header: "held",
      cells: positions.map(({ position }) => `${Math.round(position.averageHoldMinutes)}m`),
      align: "right",
      priority: 3,
    },
  ], width);
  return { head: [title, p.dim(header!)], body: rows };
}

function tradesSection(view: DashboardView, width: number, p: Paint): Section {
  const title = `${p.bold("TRADES")} ${p.dim("newest first")}`;
  const trades = view.trades;
  if (trades.length === 0) return { head: [title], body: [p.dim("No trades yet")] };
  const [header, ...rows] = layoutTable([
    { header: "time", cells: trades.map((trade) => p.dim(trade.time.slice(11, 19))) },
    { header: "agent", cells: trades.map((trade) => trade.agent), minWidth: 8 },
    { header: "side", cells: trades.map((trade) => tradeCell(trade, p)) },
    {
      header: "qty",
      cells: trades.map((trade) => formatQuantity(trade.quantity)),
      align: "right",
    },
    { header: "ticker", cells: trades.map((trade) => trade.productId), minWidth: 7 },
    {
      header: "price",
      cells: trades.map((trade) => formatPrice(trade.fillPrice)),
      align: "right",
    },
    {
      header: "notional",
      cells: trades.map((trade) => formatUsd(trade.notional)),
      align: "right",
      priority: 1,
    },
    {
      header: "fee",
      cells: trades.map((trade) => formatUsd(trade.fee)),
      align: "right",
      priority: 2,
    },
    {
      header: "latency",
      cells: trades.map((trade) => formatSeconds(trade.latencySeconds)),
      align: "right",
    },
  ], width);
  return { head: [title, p.dim(header!)], body: rows };
}

/** A trade's label coloured by direction; an engine exit also stands out in bold. */
function tradeCell(trade: TradeView, p: Paint): string {
  const label = tradeLabel(trade);
  const coloured = trade.side === "buy" ? p.green(label) : p.red(label);
  return trade.cause ? p.bold(coloured) : coloured;
}

function reasoningSection(view: DashboardView, width: number, p: Paint): Section[] {
  const title = `${p.bold("REASONING")} ${p.dim("latest per agent · r to close")}`;
  if (view.agents.length === 0) return [{ head: [title], body: [p.dim("No reasoning yet")] }];
  return view.agents.map((agent, index) => {
    const reasoning = agent.lastReasoning;
    const when = reasoning
      ? `${reasoning.tick === undefined ? "" : `tick ${reasoning.tick} · `}${
        reasoning.time.slice(11, 19)
      }`
      : "no reasoning yet";
    const label = `${p.bold(`#${agent.rank} ${agent.name}`)} ${p.dim(when)}`;
    return {
      head: index === 0 ? [title, label] : [label],
      body: reasoning ? wrapText(reasoning.text, width - 2).map((line) => `  ${line}`) : [],
    };
  });
}

/** A plain-text one-block summary for logs (no ANSI): clock, leaderboard and last trade. */
export function renderPlainSummary(state: DashboardState): string {
  const view = buildDashboardView(state, {
    maxPoints: 2,
    tradeLimit: 1,
    activityLimit: 0,
    withProducts: false,
  });
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
      `  last trade: ${last.time} ${last.agent} ${tradeLabel(last)} ${
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
  /**
   * Read keys from the terminal in tty mode: `r` toggles the reasoning pane, `q` quits like
   * Ctrl-C when `onQuit` is given or signals are handled (default true when standard input is a
   * terminal).
   */
  keys?: boolean;
  /** Called when `q` is pressed (default: the SIGINT behaviour, see `onInterrupt`). */
  onQuit?: () => void;
}

function isTerminal(stream: { isTerminal(): boolean }): boolean {
  try {
    return stream.isTerminal();
  } catch {
    return false;
  }
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
  #drawnReasoning = false;
  #reasoning = false;
  #keys: ReadableStreamDefaultReader<Uint8Array> | undefined;
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
    if (tty && (this.#options.keys ?? isTerminal(Deno.stdin))) this.#readKeys();
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
      this.#reasoning === this.#drawnReasoning
    ) return;
    this.#drawnVersion = this.#source.version;
    this.#drawnSize = sizeKey;
    this.#drawnReasoning = this.#reasoning;
    // Every frame is exact: metrics are kept current incrementally by the state.
    const view = buildDashboardView(this.#source.state, TERMINAL_VIEW_OPTIONS);
    const text = renderTerminalView(view, {
      width: columns,
      height: rows,
      color: this.#options.color ?? true,
      note: this.#options.note,
      reasoning: this.#reasoning,
      keys: this.#keys
        ? `r ${this.#reasoning ? "trades" : "reasoning"}${this.#canQuit() ? "  q quit" : ""}`
        : undefined,
    });
    // Cursor home, overwrite each line and clear its tail, then clear below: no flicker.
    const frame = "\x1b[H" + text.split("\n").map((line) => `${line}\x1b[K`).join("\r\n") +
      "\x1b[J";
    this.#write(frame);
  }

  /** Handles one key press: `r` toggles the reasoning pane, `q` quits. */
  press(key: string): void {
    if (key === "r" || key === "R") {
      this.#reasoning = !this.#reasoning;
      this.draw();
    } else if (key === "q" || key === "Q") {
      if (this.#options.onQuit) {
        this.stop();
        this.#options.onQuit();
      } else if (this.#options.handleSignals ?? true) this.#onSigint();
    }
  }

  /** Stops drawing and restores the terminal (leaves the alternate screen, shows the cursor). */
  stop(): void {
    if (!this.#active) return;
    this.#active = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stopKeys();
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

  #canQuit(): boolean {
    return this.#options.onQuit !== undefined || (this.#options.handleSignals ?? true);
  }

  /** Reads key presses without echo; cbreak keeps Ctrl-C a signal. */
  #readKeys(): void {
    try {
      Deno.stdin.setRaw(true, { cbreak: true });
      this.#keys = Deno.stdin.readable.getReader();
    } catch {
      return;
    }
    const reader = this.#keys;
    const decoder = new TextDecoder();
    (async () => {
      while (this.#keys === reader) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const key of decoder.decode(value)) this.press(key);
      }
    })().catch(() => {});
  }

  #stopKeys(): void {
    const reader = this.#keys;
    if (!reader) return;
    this.#keys = undefined;
    reader.cancel().catch(() => {});
    try {
      Deno.stdin.setRaw(false);
    } catch {
      // Not a terminal any more: nothing to restore.
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
