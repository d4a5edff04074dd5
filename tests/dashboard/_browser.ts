/**
 * Drives the web dashboard in headless Chromium for web_test.ts, in its own process: playwright
 * needs broad permissions (it probes /proc) that the test runner should not have.
 *
 * Usage: deno run -A tests/dashboard/_browser.ts URL SCREENSHOT_PATH [AGENT TRADE_ID]
 * Prints one JSON line per step on stdout; waits for a line on stdin between the steps.
 * With `report FILE SCREENSHOT_PATH` it opens a report file instead and prints one step.
 * With `replay URL SCREENSHOT_PATH` it prints `ready`, samples the leaderboard until a line
 * arrives on stdin, then compares the page with a fresh load and prints one step.
 */

import { chromium } from "playwright-core";

/** The little of the page's DOM the driver reads (it is type-checked without DOM types). */
interface PageNode {
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): Iterable<PageNode>;
  cloneNode(deep: boolean): PageNode;
  textContent: string | null;
  innerHTML: string;
  classList: { remove(name: string): void };
  scrollWidth: number;
  dataset: Record<string, string | undefined>;
}

/** The page's globals the driver reads. */
interface PageGlobals {
  document: PageNode & { body: PageNode; documentElement: PageNode };
  arenaDashboard: {
    view(): { agents: { name: string; portfolio: { startingCash: string } }[] } | null;
    equityLast(): Record<string, number | null>;
  };
}

/** Where Debian installs Chromium. */
const CHROMIUM = "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** What the page showed after loading. */
export interface LoadedStep {
  /** Step name. */
  step: "loaded";
  /** Leaderboard rows (benchmark excluded) in page order. */
  rows: { agent: string | null; equity?: string; model?: string; trades?: string }[];
  /** Whether the benchmark row is shown. */
  benchmark: boolean;
  /** Canvases in the equity chart. */
  equityCanvases: number;
  /** Price chart cards. */
  priceCards: number;
  /** Activity feed text. */
  activity: string;
  /** Trade log rows. */
  tradeRows: number;
}

/** What the page showed after the new trade was published. */
export interface LiveStep {
  /** Step name. */
  step: "live";
  /** Text of the newest trade row. */
  newestTrade: string;
  /** The agent's trades cell in the leaderboard. */
  traderTrades: string;
  /** The agent's win rate cell once its metrics caught up with the new trade. */
  traderWinRate: string;
  /** Page loads seen after the first one (must be 0). */
  reloads: number;
  /** Requests to any host but 127.0.0.1. */
  foreignRequests: string[];
  /** Uncaught errors in the page. */
  pageErrors: string[];
}

/** What the page did when an agent was clicked, and at phone width. */
export interface FocusStep {
  /** Step name. */
  step: "focus";
  /** Round-trip rows once the sell arrived (event ids). */
  roundTrips: string[];
  /** The page's focus after clicking the agent's leaderboard row. */
  focusAfterClick: string;
  /** Agents of the trade rows while focused. */
  focusedTradeAgents: string[];
  /** Agents of the feed lines while focused. */
  focusedFeedAgents: string[];
  /** The page's focus after clicking the legend entry of the same agent again. */
  focusAfterSecondClick: string;
  /** Trade rows after the focus was cleared. */
  tradeRowsAfterClear: number;
  /** The last value of each equity line once the % axis was chosen, by agent. */
  pctAxisLast: Record<string, number | null>;
  /** Right edge of the Return header at 375 px, in CSS pixels. */
  phoneReturnRight: number;
  /** Widest scroll width of the page at 375 px (no horizontal overflow means 375). */
  phoneScrollWidth: number;
  /** Uncaught errors in the page. */
  pageErrors: string[];
}

/** What the page showed while an arena replayed, and how it compared with a fresh load. */
export interface ReplayStep {
  /** Step name. */
  step: "replay";
  /** Leaderboard samples taken during the replay. */
  samples: number;
  /** Distinct views (sequence numbers) sampled. */
  distinctViews: number;
  /** Rows whose return did not match their own equity, or whose rank broke the equity order. */
  inconsistencies: string[];
  /** Sections whose HTML differed between the live page and a fresh load. */
  differingSections: string[];
  /** Whether the view built from deltas equals the freshly loaded one. */
  sameView: boolean;
  /** Sequence numbers of the live page and the fresh page. */
  seqs: [number, number];
  /** Round-trip rows on the page. */
  roundTripRows: number;
  /** Uncaught errors in either page. */
  pageErrors: string[];
}

/** What a report file showed. */
export interface ReportStep {
  /** Step name. */
  step: "report";
  /** Leaderboard agents in page order. */
  agents: (string | null)[];
  /** Leaderboard equity cells in page order. */
  equities: string[];
  /** Canvases drawn (equity and price charts). */
  canvases: number;
  /** Every URL the page requested after the file itself. */
  requests: string[];
  /** Uncaught errors in the page. */
  pageErrors: string[];
}

/** Headless Debian chromium with the tests' flags. */
function launchBrowser(): ReturnType<typeof chromium.launch> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 15_000,
  });
}

async function checkReport(file: string, screenshot: string): Promise<void> {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1400 } });
    page.setDefaultTimeout(8_000);
    const requests: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    const url = new URL(file, `file://${Deno.cwd()}/`).href;
    await page.goto(url);
    await page.waitForSelector("#leaderboard tbody tr[data-agent]");
    await page.waitForSelector("#equity-chart canvas");
    await page.waitForTimeout(300);
    await page.screenshot({ path: screenshot, fullPage: true });
    const step: ReportStep = {
      step: "report",
      agents: await page.$$eval(
        "#leaderboard tbody tr:not(.benchmark)",
        (trs) => trs.map((tr) => tr.getAttribute("data-agent")),
      ),
      equities: await page.$$eval(
        '#leaderboard tbody tr:not(.benchmark) [data-field="equity"]',
        (tds) => tds.map((td) => td.textContent?.trim() ?? ""),
      ),
      canvases: await page.locator("canvas").count(),
      requests: requests.filter((request) => request !== url),
      pageErrors,
    };
    emit(step);
  } finally {
    await browser.close();
  }
}

/** Every leaderboard row's return must match its own equity, and ranks must follow equity. */
function checkLeaderboard(
  rows: { rank: string; agent: string; equity: string; ret: string; start: number }[],
): string[] {
  const problems: string[] = [];
  let previous = Infinity;
  for (const [index, row] of rows.entries()) {
    const equity = Number(row.equity.replace(/[$,]/g, ""));
    const shown = Number(row.ret.replace(/[%+]/g, ""));
    const expected = (equity / row.start - 1) * 100;
    // Shown to 2 decimals from the 4-decimal return of core/metrics.
    if (Math.abs(expected - shown) > 0.005 + 0.00005 + 1e-9) {
      problems.push(
        `${row.agent}: ${row.equity} shows ${row.ret}, expected ${expected.toFixed(4)}%`,
      );
    }
    if (row.rank !== String(index + 1)) {
      problems.push(`${row.agent}: rank ${row.rank} at ${index + 1}`);
    }
    if (equity > previous) problems.push(`${row.agent}: ${row.equity} ranked below a lower equity`);
    previous = equity;
  }
  return problems;
}

/** Sections compared between a live page and a fresh load (the flash of new trades aside). */
const SECTIONS = [
  "#leaderboard tbody",
  "#positions tbody",
  "#trades tbody",
  "#round-trips tbody",
  "#activity",
  "#equity-legend",
];

async function watchReplay(url: string, screenshot: string): Promise<void> {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1400 } });
    page.setDefaultTimeout(8_000);
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(url);
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).document.body.dataset.seq !== undefined
    );
    emit({ step: "ready" });
    const done = readLine();
    let finished = false;
    done.then(() => finished = true);
    let samples = 0;
    const seqs = new Set<string>();
    const inconsistencies: string[] = [];
    while (!finished) {
      const sample = await page.evaluate(() => {
        const { document, arenaDashboard } = globalThis as unknown as PageGlobals;
        const view = arenaDashboard.view();
        // Each row's return is on its own starting cash.
        const startOf = (agent: string) =>
          Number(
            view?.agents.find((row) => row.name === agent)?.portfolio.startingCash ?? 100000,
          );
        const text = (tr: PageNode, field: string) =>
          tr.querySelector(`[data-field="${field}"]`)?.textContent?.trim() ?? "";
        return {
          seq: document.body.dataset.seq ?? "",
          rows: [...document.querySelectorAll("#leaderboard tbody tr.agent-row")].map((tr) => {
            const agent = tr.getAttribute("data-agent") ?? "";
            return {
              rank: text(tr, "rank"),
              agent,
              equity: text(tr, "equity"),
              ret: text(tr, "return"),
              start: startOf(agent),
            };
          }),
        };
      });
      samples++;
      seqs.add(sample.seq);
      for (const problem of checkLeaderboard(sample.rows)) {
        if (inconsistencies.length < 10) inconsistencies.push(`view ${sample.seq}: ${problem}`);
      }
      await page.waitForTimeout(60);
    }
    // A fresh load of the same server must show exactly what the deltas built.
    const fresh = await browser.newPage({ viewport: { width: 1440, height: 1400 } });
    fresh.on("pageerror", (error) => pageErrors.push(error.message));
    await fresh.goto(url);
    const seqOf = () => (globalThis as unknown as PageGlobals).document.body.dataset.seq;
    await fresh.waitForFunction(seqOf);
    const freshSeq = Number(await fresh.evaluate(seqOf));
    await page.waitForFunction(
      (seq) => Number((globalThis as unknown as PageGlobals).document.body.dataset.seq) >= seq,
      freshSeq,
    );
    const html = (target: typeof page) =>
      target.evaluate((selectors) =>
        selectors.map((selector) => {
          const { document } = globalThis as unknown as PageGlobals;
          const node = document.querySelector(selector)!.cloneNode(true);
          for (const row of node.querySelectorAll(".fresh")) row.classList.remove("fresh");
          return node.innerHTML.replace(/ class=""/g, "");
        }), SECTIONS);
    const [live, loaded] = [await html(page), await html(fresh)];
    const views = (target: typeof page) =>
      target.evaluate(() =>
        JSON.stringify((globalThis as unknown as PageGlobals).arenaDashboard.view())
      );
    await page.waitForTimeout(300);
    await page.screenshot({ path: screenshot, fullPage: true });
    const step: ReplayStep = {
      step: "replay",
      samples,
      distinctViews: seqs.size,
      inconsistencies,
      differingSections: SECTIONS.filter((_, index) => live[index] !== loaded[index]),
      sameView: (await views(page)) === (await views(fresh)),
      seqs: [Number(await page.evaluate(seqOf)), freshSeq],
      roundTripRows: await page.locator("#round-trips tbody tr[data-trip]").count(),
      pageErrors,
    };
    emit(step);
  } finally {
    await browser.close();
  }
}

async function readLine(): Promise<string> {
  const buffer = new Uint8Array(1024);
  const read = await Deno.stdin.read(buffer);
  return new TextDecoder().decode(buffer.subarray(0, read ?? 0)).trim();
}

function emit(message: unknown): void {
  console.log(JSON.stringify(message));
}

async function main(): Promise<void> {
  if (Deno.args[0] === "replay") {
    const [, url, screenshot] = Deno.args;
    if (!url || !screenshot) throw new Error("Arguments must be replay URL SCREENSHOT_PATH");
    return await watchReplay(url, screenshot);
  }
  if (Deno.args[0] === "report") {
    const [, file, screenshot] = Deno.args;
    if (!file || !screenshot) throw new Error("Arguments must be report FILE SCREENSHOT_PATH");
    return await checkReport(file, screenshot);
  }
  const [url, screenshot, traderAgent = "scalper", newTradeId = ""] = Deno.args;
  if (!url || !screenshot) throw new Error("Arguments must be URL and SCREENSHOT_PATH");
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1400 } });
    page.setDefaultTimeout(8_000);
    const foreignRequests: string[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).hostname !== "127.0.0.1") foreignRequests.push(request.url());
    });
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    let loads = 0;
    page.on("load", () => loads++);

    await page.goto(url);
    await page.waitForSelector(`#leaderboard tr[data-agent="${traderAgent}"]`);
    await page.waitForSelector("#equity-chart canvas");
    const rows = await page.$$eval(
      "#leaderboard tbody tr:not(.benchmark)",
      (trs) =>
        trs.map((tr) => ({
          agent: tr.getAttribute("data-agent"),
          equity: tr.querySelector('[data-field="equity"]')?.textContent?.trim(),
          model: tr.querySelector('[data-field="model"]')?.textContent?.trim(),
          trades: tr.querySelector('[data-field="trades"]')?.textContent?.trim(),
        })),
    );
    const loaded: LoadedStep = {
      step: "loaded",
      rows,
      benchmark: await page.locator("#leaderboard tr.benchmark").count() > 0,
      equityCanvases: await page.locator("#equity-chart canvas").count(),
      priceCards: await page.locator(".price-card").count(),
      activity: await page.locator("#activity").innerText(),
      tradeRows: await page.locator("#trades tbody tr").count(),
    };
    emit(loaded);

    // The test publishes a new trade, then tells us to look for it.
    await readLine();
    await page.waitForSelector(`#trades tr[data-trade="${newTradeId}"]`);
    // Metrics may lag a live trade by about a second; wait for the trailing refresh.
    const winRate = `#leaderboard tr[data-agent="${traderAgent}"] [data-field="winRate"]`;
    await page.locator(winRate).filter({ hasNotText: "—" }).waitFor();
    // Let charts and the fresh-row flash settle before the screenshot.
    await page.waitForTimeout(400);
    await page.screenshot({ path: screenshot, fullPage: true });
    const live: LiveStep = {
      step: "live",
      newestTrade: await page.locator("#trades tbody tr").first().innerText(),
      traderTrades: await page.locator(
        `#leaderboard tr[data-agent="${traderAgent}"] [data-field="trades"]`,
      ).innerText(),
      traderWinRate: await page.locator(winRate).innerText(),
      reloads: loads - 1,
      foreignRequests,
      pageErrors,
    };
    emit(live);

    // Focus: click the agent's row, then its legend entry to clear; then a phone-width screen.
    await page.waitForSelector(`#round-trips tr[data-trip="${newTradeId}"]`);
    const roundTrips = await page.$$eval(
      "#round-trips tbody tr[data-trip]",
      (trs) => trs.map((tr) => tr.getAttribute("data-trip") ?? ""),
    );
    await page.click(`#leaderboard tr[data-agent="${traderAgent}"]`);
    const focusOf = () => (globalThis as unknown as PageGlobals).document.body.dataset.focus ?? "";
    const focusAfterClick = await page.evaluate(focusOf);
    const agentsOf = (selector: string) =>
      page.$$eval(selector, (els) => els.map((el) => el.getAttribute("data-agent") ?? ""));
    const focusedTradeAgents = await agentsOf("#trades tbody tr[data-agent]");
    const focusedFeedAgents = await agentsOf("#activity li[data-agent]");
    await page.click(`#equity-legend [data-agent="${traderAgent}"]`);
    const focusAfterSecondClick = await page.evaluate(focusOf);
    const tradeRowsAfterClear = await page.locator("#trades tbody tr[data-agent]").count();
    await page.click('[data-axis="pct"]');
    const pctAxisLast = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).arenaDashboard.equityLast()
    );
    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForTimeout(400);
    const phoneReturnRight = await page.locator('#leaderboard th[data-field="return"]')
      .evaluate((th) => th.getBoundingClientRect().right);
    const phoneScrollWidth = await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
    });
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-phone.png"), fullPage: true });
    const focus: FocusStep = {
      step: "focus",
      roundTrips,
      focusAfterClick,
      focusedTradeAgents,
      focusedFeedAgents,
      focusAfterSecondClick,
      tradeRowsAfterClear,
      pctAxisLast,
      phoneReturnRight,
      phoneScrollWidth,
      pageErrors,
    };
    emit(focus);
  } finally {
    await browser.close();
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    emit({ step: "error", message: (error as Error).message });
    Deno.exit(1);
  }
}
