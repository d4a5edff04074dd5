/**
 * The web dashboard server: page, local chart library, JSON view and live updates over SSE.
 *
 * SSE protocol: on connect, `event: view` with `{seq, view}` (the whole {@linkcode WebView});
 * then `event: delta` with `{seq, base, delta}` (a `JsonDelta` of web_delta.ts from the view
 * numbered `base`). A page whose view is not `base` reconnects and gets the whole view again.
 *
 * Access: with a token (`authToken`; required when the address is not loopback), the data
 * paths (`/api/view`, `/api/auth`, `/events`, `/report.html`, `/report.json`) answer 401 unless
 * the request carries `Authorization: Bearer <token>` or `?token=<token>` (EventSource cannot
 * send headers). The page and its scripts hold no data and load without it; the page asks for
 * the token once and keeps it in sessionStorage.
 */

import { timingSafeEqual } from "node:crypto";
import type { Logger } from "../log.ts";
import { loadWebAssets } from "./assets.ts";
import type { DashboardStore } from "./store.ts";
import { buildWebView, type WebView } from "./web_view.ts";
import { diffJson, type Json } from "./web_delta.ts";
import { buildReport } from "./report.ts";

/** Options for {@linkcode startWebDashboard}. */
export interface WebDashboardOptions {
  /** Port to listen on (default 8787; 0 picks a free one). */
  port?: number;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Where requests and errors are logged. */
  log: Logger;
  /** Least time between two pushed deltas in milliseconds (default 250). */
  throttleMs?: number;
  /** Most points per chart series (default 20000: deltas then only append points). */
  maxPoints?: number;
  /** Interval of SSE keep-alive comments in milliseconds (default 15000). */
  heartbeatMs?: number;
  /**
   * Token every data request must carry (`--auth-token` or `ARENA_DASHBOARD_TOKEN`); required
   * when `host` is not a loopback address, at least {@linkcode MIN_TOKEN_LENGTH} characters.
   */
  authToken?: string;
}

/** Environment variable holding the dashboard token (the `--auth-token` flag wins). */
export const DASHBOARD_TOKEN_ENV = "ARENA_DASHBOARD_TOKEN";

/** Fewest characters of a dashboard token. */
export const MIN_TOKEN_LENGTH = 16;

/** Paths served without the token: the page and its scripts, which hold no data. */
const PUBLIC_PATHS = new Set([
  "/",
  "/index.html",
  "/app.js",
  "/styles.css",
  "/vendor/lightweight-charts.js",
  "/favicon.ico",
]);

/** Where {@linkcode dashboardAuthToken} reads the token variable: `Deno.env` or a `Map`. */
export interface TokenEnv {
  /** The variable's value, or undefined when unset. */
  get(name: string): string | undefined;
}

/**
 * The dashboard's token for a service: the `--auth-token` flag, else `ARENA_DASHBOARD_TOKEN`,
 * checked against the address with {@linkcode checkDashboardAccess} (throws one clear line).
 */
export function dashboardAuthToken(
  host: string,
  flag: string | undefined,
  env: TokenEnv,
): string | undefined {
  return checkDashboardAccess(host, flag ?? env.get(DASHBOARD_TOKEN_ENV));
}

/** Whether an address to bind is loopback only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const name = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return name === "localhost" || name === "::1" || /^127(\.\d{1,3}){3}$/.test(name);
}

/**
 * Checks the dashboard's address and token before it starts; throws one clear line when a
 * non-loopback address has no token or the token is too short. Returns the token (or none).
 */
export function checkDashboardAccess(
  host: string,
  authToken: string | undefined,
): string | undefined {
  const token = authToken?.trim() ? authToken.trim() : undefined;
  if (token === undefined) {
    if (isLoopbackHost(host)) return undefined;
    throw new Error(
      `The web dashboard on ${host} (not loopback) needs a token: pass --auth-token or set ` +
        `${DASHBOARD_TOKEN_ENV} (at least ${MIN_TOKEN_LENGTH} characters, e.g. from ` +
        "`openssl rand -hex 16`), or bind 127.0.0.1",
    );
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new Error(
      `The web dashboard token must be at least ${MIN_TOKEN_LENGTH} characters, got ` +
        `${token.length} (e.g. from \`openssl rand -hex 16\`)`,
    );
  }
  return token;
}

/** A running web dashboard. */
export interface WebDashboard {
  /** The page's URL, e.g. `http://127.0.0.1:8787/`. */
  url: string;
  /** The bound port. */
  port: number;
  /** Closes live streams and stops the server. */
  close(): Promise<void>;
}

/** Same-origin only: the page can load nothing from another host. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Starts the web dashboard on 127.0.0.1 (unless told otherwise), serving the store's view. */
export async function startWebDashboard(
  store: DashboardStore,
  options: WebDashboardOptions,
): Promise<WebDashboard> {
  const host = options.host ?? "127.0.0.1";
  const token = checkDashboardAccess(host, options.authToken);
  const assets = await loadWebAssets();
  const log = options.log;
  const throttleMs = options.throttleMs ?? 250;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxPoints = options.maxPoints ?? 20_000;
  const encoder = new TextEncoder();
  const clients = new Set<ReadableStreamDefaultController<Uint8Array>>();

  // The latest built view and its sequence number; every client holds the same one, since a
  // new client gets the full view only after the others got the delta to it.
  let seq = 0;
  let baseline: { version: number; view: WebView; stale: boolean } | null = null;
  /** Rebuilds the view when the store changed; returns the delta event to broadcast, if any. */
  function refresh(): string | null {
    if (baseline && baseline.version === store.version && !baseline.stale) return null;
    // The page reads the feed, not the plain activity list: leave that out of every event.
    const view = buildWebView(store.state, { maxPoints, activityLimit: 0 });
    const previous = baseline;
    baseline = { version: store.version, view, stale: view.metricsStale };
    if (!previous) {
      seq++;
      return null;
    }
    const delta = diffJson(previous.view as unknown as Json, view as unknown as Json);
    if (!delta) return null;
    seq++;
    return `event: delta\ndata: ${JSON.stringify({ seq, base: seq - 1, delta })}\n\n`;
  }
  function currentView(): WebView {
    const chunk = refresh();
    if (chunk) broadcast(chunk);
    return baseline!.view;
  }
  function send(controller: ReadableStreamDefaultController<Uint8Array>, chunk: string): void {
    try {
      controller.enqueue(encoder.encode(chunk));
    } catch {
      clients.delete(controller);
    }
  }
  function broadcast(chunk: string): void {
    for (const client of clients) send(client, chunk);
  }

  // Coalesce changes: at most one pushed delta per throttle window.
  let pushTimer: ReturnType<typeof setTimeout> | undefined;
  function schedulePush(delayMs = throttleMs): void {
    if (pushTimer !== undefined || clients.size === 0) return;
    pushTimer = setTimeout(() => {
      pushTimer = undefined;
      const chunk = refresh();
      if (chunk) broadcast(chunk);
      if (baseline?.stale) schedulePush(1000);
    }, delayMs);
  }
  const stopListening = store.onChange(() => schedulePush());
  const heartbeat = setInterval(() => broadcast(": keep-alive\n\n"), heartbeatMs);

  function handler(request: Request): Response {
    const url = new URL(request.url);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method must be GET or HEAD", { status: 405 });
    }
    if (token !== undefined && !PUBLIC_PATHS.has(url.pathname) && !authorized(request, url)) {
      return new Response(
        "Unauthorized: this dashboard needs its token: open the page with ?token=<token>, or " +
          "send Authorization: Bearer <token>",
        {
          status: 401,
          headers: {
            "www-authenticate": 'Bearer realm="arena dashboard"',
            "cache-control": "no-store",
          },
        },
      );
    }
    switch (url.pathname) {
      case "/":
      case "/index.html":
        return asset(assets.indexHtml, "text/html; charset=utf-8");
      case "/app.js":
        return asset(assets.appJs, "text/javascript; charset=utf-8");
      case "/styles.css":
        return asset(assets.stylesCss, "text/css; charset=utf-8");
      case "/vendor/lightweight-charts.js":
        return asset(assets.chartsJs, "text/javascript; charset=utf-8", "max-age=3600");
      case "/api/view":
        return new Response(JSON.stringify(currentView()), {
          headers: { "content-type": "application/json", "cache-control": "no-store" },
        });
      case "/events":
        return events();
      case "/api/auth":
        // Lets the page check its token (401 above when it is wrong) without building a view.
        return new Response(null, { status: 204, headers: { "cache-control": "no-store" } });
      case "/report.html":
        return new Response(buildReport(store.state, assets).html, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "content-disposition": 'attachment; filename="report.html"',
            "cache-control": "no-store",
          },
        });
      case "/report.json":
        return new Response(JSON.stringify(buildReport(store.state, assets).json, null, 2), {
          headers: { "content-type": "application/json", "cache-control": "no-store" },
        });
      case "/favicon.ico":
        return new Response(null, { status: 204 });
      default:
        return new Response(
          "Not found: paths are /, /api/view, /api/auth, /events, /report.html and /report.json",
          { status: 404 },
        );
    }
  }

  function authorized(request: Request, url: URL): boolean {
    const header = request.headers.get("authorization") ?? "";
    const bearer = /^Bearer\s+(.+)$/i.exec(header.trim())?.[1];
    return sameToken(bearer ?? url.searchParams.get("token") ?? "", token!);
  }

  function events(): Response {
    let self: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        self = controller;
        // Bring every other client to the current view first, then send it whole to this one.
        const view = currentView();
        clients.add(controller);
        // Reconnect after 2 s if the stream breaks (the page then gets the full view again).
        send(
          controller,
          `retry: 2000\nevent: view\ndata: ${JSON.stringify({ seq, view })}\n\n`,
        );
      },
      cancel() {
        clients.delete(self);
      },
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  const server = Deno.serve({
    hostname: host,
    port: options.port ?? 8787,
    onListen: () => {},
    onError: (error) => {
      log.error("Web dashboard request failed", { error });
      return new Response("Internal error", { status: 500 });
    },
  }, handler);
  const address = server.addr as Deno.NetAddr;
  const shownHost = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  const url = `http://${shownHost}:${address.port}/`;
  log.info("Web dashboard listening", { url });

  return {
    url,
    port: address.port,
    close: async () => {
      stopListening();
      clearInterval(heartbeat);
      clearTimeout(pushTimer);
      for (const client of clients) {
        try {
          client.close();
        } catch {
          // Already closed by the browser.
        }
      }
      clients.clear();
      await server.shutdown();
    },
  };
}

/** Compares two tokens in time independent of where they differ. */
function sameToken(given: string, expected: string): boolean {
  const encoder = new TextEncoder();
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

function asset(text: string, contentType: string, cache = "no-cache"): Response {
  return new Response(text, {
    headers: {
      "content-type": contentType,
      "cache-control": cache,
      "content-security-policy": CONTENT_SECURITY_POLICY,
      "x-content-type-options": "nosniff",
      // The token may be in the page's address: never send it to another site.
      "referrer-policy": "no-referrer",
    },
  });
}
