/** The web dashboard's static files, read once from this folder and the lightweight-charts package. */

/** The files the web page needs; every one is served by the dashboard itself. */
export interface WebAssets {
  /** The page. */
  indexHtml: string;
  /** The page's script. */
  appJs: string;
  /** The page's styles. */
  stylesCss: string;
  /** TradingView lightweight-charts, standalone production build (defines `LightweightCharts`). */
  chartsJs: string;
  /** Version of lightweight-charts. */
  chartsVersion: string;
}

const CHARTS_STANDALONE = "lightweight-charts.standalone.production.js";

let cached: Promise<WebAssets> | undefined;
let cachedSync: WebAssets | undefined;

/** Reads the web assets (cached after the first call). */
export function loadWebAssets(): Promise<WebAssets> {
  if (cachedSync) return Promise.resolve(cachedSync);
  cached ??= readWebAssets().then((assets) => cachedSync = assets).catch((error) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

/** Reads the web assets synchronously (cached); the chart library must be in the npm cache. */
export function loadWebAssetsSync(): WebAssets {
  if (cachedSync) return cachedSync;
  const read = (name: string) => Deno.readTextFileSync(new URL(`./web/${name}`, import.meta.url));
  const entry = import.meta.resolve("lightweight-charts");
  let chartsJs: string;
  try {
    chartsJs = Deno.readTextFileSync(new URL(`./${CHARTS_STANDALONE}`, entry));
  } catch (error) {
    throw new Error(
      `Chart library lightweight-charts must be in Deno's npm cache (run \`deno install\` ` +
        `or call loadWebAssets() first): ${(error as Error).message}`,
    );
  }
  cachedSync = {
    indexHtml: read("index.html"),
    appJs: read("app.js"),
    stylesCss: read("styles.css"),
    chartsJs,
    chartsVersion: chartsVersionSync(entry),
  };
  return cachedSync;
}

function chartsVersionSync(entry: string): string {
  try {
    return String(JSON.parse(Deno.readTextFileSync(new URL("../package.json", entry))).version);
  } catch {
    return "unknown";
  }
}

async function readWebAssets(): Promise<WebAssets> {
  const read = (name: string) => Deno.readTextFile(new URL(`./web/${name}`, import.meta.url));
  const [indexHtml, appJs, stylesCss, charts] = await Promise.all([
    read("index.html"),
    read("app.js"),
    read("styles.css"),
    readChartsLibrary(),
  ]);
  return { indexHtml, appJs, stylesCss, chartsJs: charts.code, chartsVersion: charts.version };
}

/** Finds the standalone build next to the package's module entry in Deno's npm cache. */
async function readChartsLibrary(): Promise<{ code: string; version: string }> {
  const entry = import.meta.resolve("lightweight-charts");
  const standalone = new URL(`./${CHARTS_STANDALONE}`, entry);
  let code: string;
  try {
    code = await Deno.readTextFile(standalone);
  } catch {
    // Not in the npm cache yet: importing the package makes Deno fetch it, then read again.
    try {
      await import("lightweight-charts");
      code = await Deno.readTextFile(standalone);
    } catch (error) {
      throw new Error(
        `Chart library lightweight-charts must be in Deno's npm cache (run \`deno install\`), ` +
          `could not read ${standalone.href}: ${(error as Error).message}`,
      );
    }
  }
  let version = "unknown";
  try {
    const manifest = JSON.parse(await Deno.readTextFile(new URL("../package.json", entry)));
    version = String(manifest.version);
  } catch {
    // The version is informational only.
  }
  return { code, version };
}
