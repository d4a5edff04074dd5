/**
 * Drives the web dashboard in headless Chromium for web_test.ts, in its own process: playwright
 * needs broad permissions (it probes /proc) that the test runner should not have.
 *
 * Usage: deno run -A tests/dashboard/_browser.ts URL SCREENSHOT_PATH [AGENT TRADE_ID]
 * Prints one JSON line per step on stdout; waits for a line on stdin between the steps.
 * With `report FILE SCREENSHOT_PATH` it opens a report file instead and prints one step.
 */

import { chromium } from "playwright-core";

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

async function checkReport(file: string, screenshot: string): Promise<void> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 15_000,
  });
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

async function readLine(): Promise<string> {
  const buffer = new Uint8Array(1024);
  const read = await Deno.stdin.read(buffer);
  return new TextDecoder().decode(buffer.subarray(0, read ?? 0)).trim();
}

function emit(message: unknown): void {
  console.log(JSON.stringify(message));
}

async function main(): Promise<void> {
  if (Deno.args[0] === "report") {
    const [, file, screenshot] = Deno.args;
    if (!file || !screenshot) throw new Error("Arguments must be report FILE SCREENSHOT_PATH");
    return await checkReport(file, screenshot);
  }
  const [url, screenshot, traderAgent = "scalper", newTradeId = ""] = Deno.args;
  if (!url || !screenshot) throw new Error("Arguments must be URL and SCREENSHOT_PATH");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 15_000,
  });
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
