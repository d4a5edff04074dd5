/**
 * The web dashboard server: page, local chart library, JSON view and live updates over SSE.
 *
 * SSE protocol: on connect, `event: view` with `{seq, view}` (the whole {@linkcode WebView});
 * then `event: delta` with `{seq, base, delta}` (a `JsonDelta` of web_delta.ts from the view
 * numbered `base`). A page whose view is not `base` reconnects and gets the whole view again.
 */

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
          "Not found: paths are /, /api/view, /events, /report.html and /report.json",
          { status: 404 },
        );
    }
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
    hostname: options.host ?? "127.0.0.1",
    port: options.port ?? 8787,
    onListen: () => {},
    onError: (error) => {
      log.error("Web dashboard request failed", { error });
      return new Response("Internal error", { status: 500 });
    },
  }, handler);
  const address = server.addr as Deno.NetAddr;
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  const url = `http://${host}:${address.port}/`;
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

function asset(text: string, contentType: string, cache = "no-cache"): Response {
  return new Response(text, {
    headers: {
      "content-type": contentType,
      "cache-control": cache,
      "content-security-policy": CONTENT_SECURITY_POLICY,
      "x-content-type-options": "nosniff",
    },
  });
}
