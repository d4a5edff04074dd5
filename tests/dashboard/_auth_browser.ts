/**
 * Drives a token-protected web dashboard in headless Chromium for web_auth_test.ts, in its own
 * process (playwright needs permissions the test runner should not have).
 *
 * Usage: deno run -A tests/dashboard/_auth_browser.ts URL TOKEN
 * Prints one JSON line, an {@linkcode AuthBrowserResult} (or `{"step":"error","message"}`).
 */

import { chromium } from "playwright-core";

/** Where Debian installs Chromium. */
const CHROMIUM = "/usr/bin/chromium";

/** What the page did at each step. */
export interface AuthBrowserResult {
  /** Step name. */
  step: "auth";
  /** Without a token: whether the token form showed, the status pill, and leaderboard rows. */
  withoutToken: { formShown: boolean; status: string; rows: number };
  /** After typing a wrong token: the form's message and leaderboard rows. */
  wrongToken: { message: string; rows: number };
  /** After typing the right token: leaderboard rows and whether the form hid. */
  rightToken: { rows: number; formHidden: boolean; reportLink: string };
  /** After a reload of the same tab: rows, and whether the form showed again. */
  reloaded: { rows: number; formShown: boolean };
  /** A new session opened with `?token=`: rows, and the address left in the bar. */
  fromAddress: { rows: number; search: string; formShown: boolean };
  /** Data requests answered 401, by path. */
  unauthorized: string[];
  /** Data requests answered 200 without carrying the token (must be none). */
  openDataRequests: string[];
  /** Uncaught errors in the pages. */
  pageErrors: string[];
}

const DATA_PATHS = ["/api/view", "/api/auth", "/events", "/report.html", "/report.json"];

async function main(): Promise<void> {
  const [url, token] = Deno.args;
  if (!url || !token) throw new Error("Arguments must be URL TOKEN");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    timeout: 15_000,
  });
  try {
    const unauthorized: string[] = [];
    const openDataRequests: string[] = [];
    const pageErrors: string[] = [];
    const context = await browser.newContext();
    const watch = (page: Awaited<ReturnType<typeof context.newPage>>) => {
      page.setDefaultTimeout(8_000);
      page.on("pageerror", (error) => pageErrors.push(error.message));
      page.on("response", (response) => {
        const address = new URL(response.url());
        if (!DATA_PATHS.includes(address.pathname)) return;
        if (response.status() === 401) unauthorized.push(address.pathname);
        const carries = address.searchParams.get("token") === token ||
          response.request().headers()["authorization"] === `Bearer ${token}`;
        if (response.status() < 400 && !carries) openDataRequests.push(address.pathname);
      });
    };
    const rowCount = (page: Awaited<ReturnType<typeof context.newPage>>) =>
      page.locator("#leaderboard tbody tr[data-agent]:not(.benchmark)").count();

    const page = await context.newPage();
    watch(page);
    await page.goto(url);
    await page.waitForSelector("#auth:not([hidden])");
    await page.waitForTimeout(300);
    const withoutToken = {
      formShown: await page.isVisible("#auth"),
      status: (await page.textContent("#status"))?.trim() ?? "",
      rows: await rowCount(page),
    };

    await page.fill("#auth-token", "not-the-token-at-all");
    await page.click("#auth button[type=submit]");
    await page.waitForFunction(() =>
      (globalThis as unknown as {
        document: { getElementById(id: string): { textContent: string } };
      })
        .document.getElementById("auth-error").textContent !== ""
    );
    const wrongToken = {
      message: (await page.textContent("#auth-error"))?.trim() ?? "",
      rows: await rowCount(page),
    };

    await page.fill("#auth-token", token);
    await page.click("#auth button[type=submit]");
    await page.waitForSelector("#leaderboard tbody tr[data-agent]");
    const rightToken = {
      rows: await rowCount(page),
      formHidden: !(await page.isVisible("#auth")),
      reportLink: (await page.getAttribute("#download", "href")) ?? "",
    };

    await page.reload();
    await page.waitForSelector("#leaderboard tbody tr[data-agent]");
    const reloaded = { rows: await rowCount(page), formShown: await page.isVisible("#auth") };

    const fresh = await browser.newContext();
    const second = await fresh.newPage();
    watch(second);
    await second.goto(`${url}?token=${encodeURIComponent(token)}`);
    await second.waitForSelector("#leaderboard tbody tr[data-agent]");
    const fromAddress = {
      rows: await rowCount(second),
      search: new URL(second.url()).search,
      formShown: await second.isVisible("#auth"),
    };
    await fresh.close();
    await context.close();
    const result: AuthBrowserResult = {
      step: "auth",
      withoutToken,
      wrongToken,
      rightToken,
      reloaded,
      fromAddress,
      unauthorized,
      openDataRequests,
      pageErrors,
    };
    console.log(JSON.stringify(result));
  } finally {
    await browser.close();
  }
}

try {
  await main();
} catch (error) {
  console.log(JSON.stringify({ step: "error", message: (error as Error).message }));
  Deno.exit(1);
}
