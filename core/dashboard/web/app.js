// The web dashboard page: renders a WebView (core/dashboard/web_view.ts) and follows it live over
// server-sent events: the whole view on connect, then deltas (core/dashboard/web_delta.ts). In a
// report the view is embedded and nothing is fetched. No money is computed here: only formatting.
/* global LightweightCharts */
"use strict";

(function () {
  const PALETTE = [
    "#58a6ff",
    "#3fb950",
    "#f0883e",
    "#bc8cff",
    "#ff7b72",
    "#39c5cf",
    "#e3b341",
    "#db61a2",
  ];
  const BENCHMARK_COLOR = "#8b949e";
  const LIQUIDATION_COLOR = "#f85149";
  /** The engine's exits by cause, as core/dashboard/view.ts (EXIT_LABELS) names them. */
  const EXIT_LABELS = { stop_loss: "STOP", take_profit: "TARGET", liquidation: "LIQ" };
  const charts = {
    equity: null,
    equityTouched: false,
    equityAxis: null,
    equitySeries: new Map(),
    prices: new Map(),
  };
  const seenTrades = new Set();
  const openDetails = new Set();
  const page = { view: null, seq: 0, focus: null, axis: "usd", firstRender: true };

  const $ = (id) => document.getElementById(id);

  // ---- deltas: the same rules as core/dashboard/web_delta.ts (applyJsonDelta) ----

  function applyDelta(before, delta) {
    if ("$v" in delta) return delta.$v;
    if ("$o" in delta) {
      const out = Object.assign({}, isObject(before) ? before : {});
      for (const key of Object.keys(delta.$o)) {
        const change = delta.$o[key];
        if ("$d" in change) delete out[key];
        else out[key] = applyDelta(out[key], change);
      }
      return out;
    }
    const list = Array.isArray(before) ? before : [];
    if ("$l" in delta) {
      const [head, from, to, tail] = delta.$l;
      return head.concat(list.slice(from, to), tail);
    }
    const [field, order, changes] = delta.$k;
    const byKey = new Map();
    for (const item of list) if (isObject(item)) byKey.set(String(item[field]), item);
    return order.map((key) => {
      const change = changes[key];
      const old = byKey.has(key) ? byKey.get(key) : null;
      return change ? applyDelta(old === null ? undefined : old, change) : old;
    });
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  // ---- formatting ----

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) =>
      ({
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#39;",
      })[c]);
  }

  function groupThousands(text) {
    const negative = text.startsWith("-");
    const body = negative ? text.slice(1) : text;
    const [whole, fraction] = body.split(".");
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (negative ? "-" : "") + grouped + (fraction === undefined ? "" : "." + fraction);
  }

  /**
   * Rounds a decimal string half away from zero without binary floating point, so "0.7250"
   * shows as 0.73 as core/dashboard/format.ts does; numbers fall back to toFixed.
   */
  function fixed(value, places) {
    const text = String(value);
    const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
    if (!match) return Number(value).toFixed(places);
    const [, sign, whole, fraction = ""] = match;
    const digits = BigInt(whole + fraction.padEnd(places + 1, "0").slice(0, places + 1));
    const rounded = String((digits + 5n) / 10n).padStart(places + 1, "0");
    const body = places === 0 ? rounded : rounded.slice(0, -places) + "." + rounded.slice(-places);
    return (sign && /[1-9]/.test(body) ? "-" : "") + body;
  }

  function usd(value) {
    const text = fixed(value, 2);
    const negative = text.startsWith("-");
    return (negative ? "-$" : "$") + groupThousands(negative ? text.slice(1) : text);
  }

  /** Whole dollars for chart axes: `$103,976`. */
  function usdAxis(value) {
    const n = Math.round(Number(value));
    return (n < 0 ? "-$" : "$") + groupThousands(String(Math.abs(n)));
  }

  function pct(value) {
    const text = fixed(value, 2);
    return (Number(text) > 0 ? "+" : "") + (text === "-0.00" ? "0.00" : text) + "%";
  }

  function qty(value) {
    return groupThousands(String(Number(Number(value).toFixed(8))));
  }

  function priceText(value) {
    const decimals = (String(value).split(".")[1] || "").length;
    return groupThousands(Number(value).toFixed(Math.min(8, Math.max(2, decimals))));
  }

  /** Indents compact JSON for reading; text that is not JSON (cut short) stays as it is. */
  function prettyJson(text) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }

  function holdText(minutes) {
    const m = Math.round(minutes);
    if (m < 60) return m + "m";
    if (m < 1440) return Math.floor(m / 60) + "h " + String(m % 60).padStart(2, "0") + "m";
    return Math.floor(m / 1440) + "d " + Math.floor((m % 1440) / 60) + "h";
  }

  function signClass(value) {
    const n = Number(value);
    return n > 0 ? "pos" : n < 0 ? "neg" : "";
  }

  /** A palette colour at a quarter of its strength: `#58a6ff` -> `rgba(88,166,255,0.25)`. */
  function fade(hex) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},0.25)`;
  }

  function colorOf(view, agent) {
    const names = view.agents.map((a) => a.name).sort();
    return PALETTE[names.indexOf(agent) % PALETTE.length] || PALETTE[0];
  }

  function timeText(iso) {
    return iso ? iso.replace("T", " ").replace(/(\.\d+)?Z$/, "Z") : "—";
  }

  function shortTime(iso) {
    return iso ? iso.slice(5, 10) + " " + iso.slice(11, 16) : "—";
  }

  /** Rows of the focused agent only, when one is focused. */
  function focused(rows, agentOf) {
    return page.focus === null ? rows : rows.filter((row) => agentOf(row) === page.focus);
  }

  // ---- charts ----

  /** Charts follow the data until the user pans or zooms one. */
  function watchTouch(element, onTouch) {
    for (const type of ["pointerdown", "wheel", "touchstart"]) {
      element.addEventListener(type, onTouch, { passive: true });
    }
  }

  /** Refits an untouched chart whenever its box changes size (layout settles after creation). */
  function fitOnResize(element, chart, isTouched) {
    new ResizeObserver(() => {
      if (!isTouched()) chart.timeScale().fitContent();
    }).observe(element);
  }

  /** Fills are labelled with their agent while few; with many, colour alone tells them apart. */
  const MARKER_TEXT_LIMIT = 16;

  const chartOptions = (height) => ({
    height,
    autoSize: true,
    layout: {
      background: { type: "solid", color: "transparent" },
      textColor: "#8b949e",
      fontFamily: "system-ui, sans-serif",
      // Attribution is in the page footer (a plain link, nothing loaded from it).
      attributionLogo: false,
    },
    grid: {
      vertLines: { color: "rgba(139,148,158,0.08)" },
      horzLines: { color: "rgba(139,148,158,0.08)" },
    },
    rightPriceScale: { borderColor: "#262c36", alignLabels: true },
    timeScale: {
      borderColor: "#262c36",
      timeVisible: true,
      secondsVisible: false,
      minBarSpacing: 0.01,
    },
    crosshair: { mode: 0 },
  });

  /** A row's equity curve on the chosen axis: dollars, or the return on its own starting cash. */
  function equityData(row) {
    const start = Number(row.portfolio ? row.portfolio.startingCash : row.startingCash);
    if (page.axis !== "pct" || !(start > 0)) return row.equityCurve;
    return row.equityCurve.map((point) => ({
      time: point.time,
      value: (point.value / start - 1) * 100,
    }));
  }

  /** A trade's label: `SHORT 5x`, `COVER` and an exit badge (core/dashboard/view.ts tradeLabel). */
  function tradeLabelHtml(trade) {
    const leverage = trade.leverage > 1 ? " " + trade.leverage + "x" : "";
    return escapeHtml(trade.action.toUpperCase()) + leverage + exitBadge(trade.cause);
  }

  function exitBadge(cause) {
    return cause && EXIT_LABELS[cause]
      ? ` <span class="exit-badge exit-${cause}">${EXIT_LABELS[cause]}</span>`
      : "";
  }

  /** A position's side, with its leverage above 1: `short 5x`. */
  function sideText(position) {
    return position.side + (position.leverage > 1 ? " " + position.leverage + "x" : "");
  }

  /** A price chart marker: an arrow per agent trade, a square or circle per engine exit. */
  function fillMarker(view, fill, labelled) {
    const up = fill.side === "buy";
    const marker = {
      time: fill.time,
      position: up ? "belowBar" : "aboveBar",
      shape: up ? "arrowUp" : "arrowDown",
      color: colorOf(view, fill.agent),
      text: labelled ? (up ? "B " : "S ") + fill.agent : "",
      size: labelled ? 1 : 0.7,
    };
    if (!fill.cause) return marker;
    return Object.assign(marker, {
      shape: fill.cause === "take_profit" ? "circle" : "square",
      color: fill.cause === "liquidation" ? LIQUIDATION_COLOR : marker.color,
      text: EXIT_LABELS[fill.cause] + (labelled ? " " + fill.agent : ""),
      size: 1,
    });
  }

  // ---- tables: one list of columns gives a table's header and its cells ----

  /**
   * Fills a table: its header from the columns once, then a row per item. A column has `head`,
   * and optionally `title`, `left`, `field` (data-field), `cls(row)` and `tip(row)` (a title);
   * `cell(row)` gives the cell's HTML and `attrs(row)` the row's attributes.
   */
  function renderTable(id, table) {
    const element = $(id);
    if (!element.tHead) {
      const heads = table.columns.map((c) =>
        `<th${c.left ? ' class="left"' : ""}${
          c.title ? ` title="${escapeHtml(c.title)}"` : ""
        }>${c.head}</th>`
      );
      element.innerHTML = `<thead><tr>${heads.join("")}</tr></thead><tbody></tbody>`;
    }
    const rows = table.rows.map((row) =>
      `<tr ${table.attrs(row)}>${
        table.columns.map((c) => {
          const cls = [c.left ? "left" : "", c.cls ? c.cls(row) : ""].filter(Boolean).join(" ");
          return `<td${cls ? ` class="${cls}"` : ""}${c.field ? ` data-field="${c.field}"` : ""}${
            c.tip ? ` title="${escapeHtml(c.tip(row))}"` : ""
          }>${c.cell(row)}</td>`;
        }).join("")
      }</tr>`
    );
    if (rows.length === 0) {
      rows.push(`<tr><td colspan="${table.columns.length}" class="empty">${table.empty}</td></tr>`);
    }
    element.tBodies[0].innerHTML = rows.join("");
  }

  /** The agent column of a table, with the agent's colour. */
  function agentColumn(view) {
    return {
      head: "Agent",
      left: true,
      cls: () => "agent-name",
      cell: (row) =>
        `<span class="agent-dot" style="background:${colorOf(view, row.agent)}"></span>${
          escapeHtml(row.agent)
        }`,
    };
  }

  // ---- sections ----

  function renderHeader(view) {
    const status = $("status");
    status.textContent = view.status.replace("_", " ");
    status.className = "pill pill-" + view.status;
    $("clock").textContent = timeText(view.clock.time);
    $("tick").textContent = view.clock.tick === null ? "—" : String(view.clock.tick);
    $("counts").textContent = view.counts.ledger + " ledger · " + view.counts.prices +
      " prices · " + view.counts.activity + " activity";
    const chip = $("focus-chip");
    chip.hidden = page.focus === null;
    if (page.focus !== null) {
      chip.innerHTML = `<span class="agent-dot" style="background:${
        colorOf(view, page.focus)
      }"></span>${escapeHtml(page.focus)} <span aria-hidden="true">×</span>`;
    }
    document.body.dataset.focus = page.focus === null ? "" : page.focus;
  }

  function renderLeaderboard(view) {
    const rows = view.agents.map((agent) => {
      const p = agent.portfolio;
      const cls = ["rank-" + agent.rank, "agent-row"];
      if (page.focus === agent.name) cls.push("focused");
      else if (page.focus !== null) cls.push("dimmed");
      return `<tr class="${cls.join(" ")}" data-agent="${escapeHtml(agent.name)}"
        title="Click to focus on ${escapeHtml(agent.name)}">
        <td data-field="rank">${agent.rank}</td>
        <td class="left agent-name" data-field="agent"><span class="agent-dot" style="background:${
        colorOf(view, agent.name)
      }"></span>${escapeHtml(agent.name)}</td>
        <td data-field="return" class="${signClass(agent.returnPct)}">${pct(agent.returnPct)}</td>
        <td data-field="equity">${usd(p.equity)}</td>
        <td class="left muted" data-field="model">${escapeHtml(agent.model)}</td>
        <td data-field="maxDrawdown">${Number(agent.maxDrawdownPct).toFixed(2)}%</td>
        <td data-field="sharpe">${agent.sharpe === null ? "—" : agent.sharpe.toFixed(2)}</td>
        <td data-field="winRate">${
        agent.winRate === null ? "—" : (agent.winRate * 100).toFixed(0) + "%"
      }</td>
        <td data-field="fees">${usd(p.feesPaid)}</td>
        <td data-field="trades">${agent.tradeCount}</td>
        <td data-field="tokens">${groupThousands(String(agent.tokens))}</td>
        <td data-field="valid" title="${agent.validDecisions} of ${agent.decisions} decisions valid">${
        agent.decisions === 0 ? "—" : Math.round(100 * agent.validDecisions / agent.decisions) + "%"
      }</td>
        <td data-field="cost">${usd(agent.costUsd)}</td>
      </tr>`;
    });
    if (view.benchmark) {
      const b = view.benchmark;
      rows.push(`<tr class="benchmark" data-agent="${escapeHtml(b.name)}">
        <td></td><td class="left" data-field="agent">${escapeHtml(b.name)}</td>
        <td data-field="return" class="${signClass(b.returnPct)}">${pct(b.returnPct)}</td>
        <td></td><td></td>
        <td>${Number(b.maxDrawdownPct).toFixed(2)}%</td>
        <td>${b.sharpe === null ? "—" : b.sharpe.toFixed(2)}</td>
        <td></td><td></td><td></td><td></td><td></td><td></td>
      </tr>`);
    }
    if (rows.length === 0) {
      rows.push('<tr><td colspan="13" class="empty">Waiting for the first ledger event…</td></tr>');
    }
    document.querySelector("#leaderboard tbody").innerHTML = rows.join("");
  }

  function renderEquity(view, previous) {
    if (!charts.equity) {
      charts.equity = LightweightCharts.createChart($("equity-chart"), chartOptions(320));
      watchTouch($("equity-chart"), () => charts.equityTouched = true);
      fitOnResize($("equity-chart"), charts.equity, () => charts.equityTouched);
    }
    charts.equity.applyOptions({
      localization: { priceFormatter: page.axis === "pct" ? pct : usdAxis },
    });
    const axisChanged = charts.equityAxis !== page.axis;
    charts.equityAxis = page.axis;
    const wanted = new Map(view.agents.map((a) => [a.name, a]));
    if (view.benchmark) wanted.set(view.benchmark.name, view.benchmark);
    const before = new Map();
    if (previous) {
      for (const a of previous.agents) before.set(a.name, a.equityCurve);
      if (previous.benchmark) before.set(previous.benchmark.name, previous.benchmark.equityCurve);
    }
    for (const [name, series] of charts.equitySeries) {
      if (!wanted.has(name)) {
        charts.equity.removeSeries(series);
        charts.equitySeries.delete(name);
      }
    }
    const legend = [];
    for (const [name, row] of wanted) {
      const benchmark = view.benchmark && name === view.benchmark.name;
      const base = benchmark ? BENCHMARK_COLOR : colorOf(view, name);
      const isFocus = page.focus === name;
      const faded = page.focus !== null && !isFocus;
      let series = charts.equitySeries.get(name);
      if (!series) {
        series = charts.equity.addSeries(LightweightCharts.LineSeries, {
          priceLineVisible: false,
          lastValueVisible: true,
          title: "",
        });
        charts.equitySeries.set(name, series);
      }
      series.applyOptions({
        color: faded ? fade(base) : base,
        lineWidth: isFocus ? 3 : benchmark || faded ? 1 : 2,
        lineStyle: benchmark ? 2 : 0,
        lastValueVisible: !faded,
      });
      if (axisChanged || before.get(name) !== row.equityCurve) series.setData(equityData(row));
      const cls = ["legend-item"];
      if (isFocus) cls.push("focused");
      if (faded) cls.push("dimmed");
      legend.push(
        `<button type="button" class="${cls.join(" ")}" data-agent="${escapeHtml(name)}"${
          benchmark ? " disabled" : ""
        }><span class="swatch" style="background:${base}"></span>${escapeHtml(name)} <span class="${
          signClass(row.returnPct)
        }">${pct(row.returnPct)}</span></button>`,
      );
    }
    $("equity-legend").innerHTML = legend.join("");
    for (const button of document.querySelectorAll("[data-axis]")) {
      button.setAttribute("aria-pressed", String(button.dataset.axis === page.axis));
    }
    if (!charts.equityTouched) charts.equity.timeScale().fitContent();
  }

  function renderPrices(view, previous) {
    $("price-legend").innerHTML =
      view.agents.map((agent) =>
        `<span><span class="swatch" style="background:${colorOf(view, agent.name)}"></span>${
          escapeHtml(agent.name)
        }</span>`
      ).join("") +
      '<span class="muted">▲ buy · ▼ sell · ■ stop · ● target · ' +
      `<span style="color:${LIQUIDATION_COLOR}">■</span> liquidation</span>`;
    const grid = $("price-charts");
    if (view.products.length === 0 && !grid.firstChild) {
      grid.innerHTML = '<div class="empty">Waiting for prices…</div>';
    }
    const before = new Map((previous ? previous.products : []).map((p) => [p.productId, p]));
    for (const product of view.products) {
      let entry = charts.prices.get(product.productId);
      if (!entry) {
        if (charts.prices.size === 0) grid.innerHTML = "";
        const card = document.createElement("div");
        card.className = "price-card";
        card.dataset.product = product.productId;
        card.innerHTML = `<header><span class="product">${
          escapeHtml(product.productId)
        }</span><span class="quote"></span></header><div class="chart"></div>`;
        grid.appendChild(card);
        const chart = LightweightCharts.createChart(
          card.querySelector(".chart"),
          chartOptions(220),
        );
        const series = chart.addSeries(LightweightCharts.AreaSeries, {
          lineColor: "#58a6ff",
          topColor: "rgba(88,166,255,0.25)",
          bottomColor: "rgba(88,166,255,0.02)",
          lineWidth: 2,
          priceLineVisible: false,
        });
        const markers = LightweightCharts.createSeriesMarkers(series, []);
        entry = { card, chart, series, markers, touched: false, focus: undefined };
        const created = entry;
        watchTouch(card, () => created.touched = true);
        fitOnResize(card, chart, () => created.touched);
        charts.prices.set(product.productId, entry);
      }
      const latest = product.latest;
      entry.card.querySelector(".quote").innerHTML = `${
        priceText(latest.price)
      } <span class="muted">${
        latest.stale ? "stale" : "bid " + priceText(latest.bestBid) + " · ask " +
          priceText(latest.bestAsk)
      }</span>`;
      const old = before.get(product.productId);
      if (!old || old.history !== product.history) entry.series.setData(product.history);
      if (!old || old.fills !== product.fills || entry.focus !== page.focus) {
        entry.focus = page.focus;
        const fills = focused(product.fills, (fill) => fill.agent);
        const labelled = fills.length <= MARKER_TEXT_LIMIT;
        entry.markers.setMarkers(fills.map((fill) => fillMarker(view, fill, labelled)));
      }
      if (!entry.touched) entry.chart.timeScale().fitContent();
    }
  }

  function renderPositions(view) {
    const positions = focused(view.agents, (a) => a.name).flatMap((agent) =>
      agent.portfolio.positions.map((p) => Object.assign({ agent: agent.name }, p))
    );
    renderTable("positions", {
      rows: positions,
      attrs: (p) => `data-agent="${escapeHtml(p.agent)}" data-product="${escapeHtml(p.productId)}"`,
      empty: "No open positions",
      columns: [
        agentColumn(view),
        { head: "Ticker", left: true, cell: (p) => escapeHtml(p.productId) },
        {
          head: "Side",
          left: true,
          field: "side",
          cls: (p) => p.side,
          cell: (p) => escapeHtml(sideText(p)),
        },
        { head: "Qty", cell: (p) => qty(p.quantity) },
        { head: "Cost basis", cell: (p) => usd(p.costBasis) },
        {
          head: "Market value",
          title: "Quantity at the closing quote",
          cell: (p) => usd(p.marketValue),
        },
        {
          head: "P&amp;L",
          cls: (p) => signClass(p.unrealizedPnl),
          cell: (p) => `${usd(p.unrealizedPnl)} (${pct(p.unrealizedPnlPct)})`,
        },
        {
          head: "Stop · target · liq.",
          title: "Prices at which the engine closes the position: its stop loss, take profit " +
            "and liquidation",
          cls: () => "muted",
          cell: (p) =>
            [p.stopLoss, p.takeProfit, p.liquidationPrice]
              .map((price) => price ? priceText(price) : "—").join(" · "),
        },
      ],
    });
  }

  function renderTrades(view) {
    const fresh = new Set();
    for (const t of view.trades) {
      if (!page.firstRender && !seenTrades.has(t.eventId)) fresh.add(t.eventId);
      seenTrades.add(t.eventId);
    }
    renderTable("trades", {
      rows: focused(view.trades, (t) => t.agent),
      attrs: (t) =>
        `data-trade="${escapeHtml(t.eventId)}" data-agent="${escapeHtml(t.agent)}"${
          fresh.has(t.eventId) ? ' class="fresh"' : ""
        }`,
      empty: "No trades yet",
      columns: [
        {
          head: "Time",
          left: true,
          cls: () => "muted",
          tip: (t) => t.time,
          cell: (t) => escapeHtml(shortTime(t.time)),
        },
        agentColumn(view),
        { head: "Side", left: true, field: "side", cls: (t) => t.side, cell: tradeLabelHtml },
        { head: "Product", left: true, cell: (t) => escapeHtml(t.productId) },
        { head: "Qty", cell: (t) => qty(t.quantity) },
        { head: "Price", cell: (t) => priceText(t.fillPrice) },
        { head: "Notional", cell: (t) => usd(t.notional) },
        { head: "Fee", cls: () => "muted", cell: (t) => usd(t.fee) },
      ],
    });
  }

  function renderRoundTrips(view) {
    renderTable("round-trips", {
      rows: focused(view.roundTrips || [], (t) => t.agent),
      attrs: (t) => `data-trip="${escapeHtml(t.eventId)}" data-agent="${escapeHtml(t.agent)}"`,
      empty: "No completed round trips yet",
      columns: [
        {
          head: "Closed",
          left: true,
          cls: () => "muted",
          tip: (t) => t.openedAt + " → " + t.closedAt,
          cell: (t) => escapeHtml(shortTime(t.closedAt)),
        },
        agentColumn(view),
        { head: "Product", left: true, cell: (t) => escapeHtml(t.productId) },
        {
          head: "Side",
          left: true,
          field: "side",
          title: "Closed by the agent, or by the engine at a stop, target or liquidation",
          cell: (t) => escapeHtml(t.side) + exitBadge(t.cause),
        },
        {
          head: "P&amp;L",
          field: "pnl",
          cls: (t) => signClass(t.pnl),
          cell: (t) => `${usd(t.pnl)} <span class="muted">(${pct(t.pnlPct)})</span>`,
        },
        {
          head: "Held",
          field: "hold",
          title: "Close time minus the average time of the entries",
          cell: (t) => holdText(t.holdMinutes),
        },
        { head: "Qty", cell: (t) => qty(t.quantity) },
        {
          head: "Entry",
          title: "Average entry price per unit",
          cell: (t) => priceText(t.entryPrice),
        },
        { head: "Exit", cell: (t) => priceText(t.exitPrice) },
        {
          head: "Fees",
          title: "Closing fee and the entries' fees on the quantity closed",
          cls: () => "muted",
          cell: (t) => usd(t.fees),
        },
      ],
    });
  }

  function renderFeed(view) {
    const feed = view.feed || [];
    const items = focused(feed, (f) => f.agent).map((f) => {
      const meta = `<div class="meta"><span class="agent-name" style="color:${
        colorOf(view, f.agent)
      }">${escapeHtml(f.agent)}</span><span>${escapeHtml(shortTime(f.time))}</span>${
        f.tick === undefined ? "" : `<span>tick ${f.tick}</span>`
      }</div>`;
      let body;
      if (f.kind === "reasoning") {
        body = `<div class="text reasoning">${escapeHtml(f.text)}</div>`;
      } else if (f.kind === "tool_call" || f.kind === "tool_result") {
        const source = f.source
          ? `<span class="source" title="call source">${f.source}</span>`
          : "";
        body =
          `<div class="call status-${f.status || "ok"}"><span class="call-icon">${
            f.status === "refused" ? "✕" : f.status === "pending" ? "…" : "→"
          }</span><span class="call-text">${escapeHtml(f.text)}</span>${source}</div>` +
          (f.raw
            ? `<details data-id="${escapeHtml(f.id)}"${
              openDetails.has(f.id) ? " open" : ""
            }><summary>JSON</summary><pre>${escapeHtml(prettyJson(f.raw))}</pre></details>`
            : "");
      } else if (f.kind === "exit") {
        body = `<div class="text exit exit-${escapeHtml(f.cause)}">${escapeHtml(f.text)}</div>`;
      } else {
        body = `<div class="text ${f.kind}">${escapeHtml(f.text)}</div>`;
      }
      return `<li data-agent="${escapeHtml(f.agent)}" data-kind="${
        escapeHtml(f.kind)
      }">${meta}${body}</li>`;
    });
    if (items.length === 0) items.push('<li class="empty">No activity yet</li>');
    $("activity").innerHTML = items.join("");
  }

  /** Fits untouched charts to their data once the layout has settled. */
  function fitCharts() {
    if (charts.equity && !charts.equityTouched) charts.equity.timeScale().fitContent();
    for (const entry of charts.prices.values()) {
      if (!entry.touched) entry.chart.timeScale().fitContent();
    }
  }

  function render(view, previous) {
    renderHeader(view);
    renderLeaderboard(view);
    renderEquity(view, previous);
    renderPrices(view, previous);
    renderPositions(view);
    renderRoundTrips(view);
    renderTrades(view);
    renderFeed(view);
    page.firstRender = false;
    requestAnimationFrame(() => requestAnimationFrame(fitCharts));
    document.body.dataset.seq = String(page.seq);
    document.body.dataset.version = String((Number(document.body.dataset.version) || 0) + 1);
  }

  function show(view) {
    const previous = page.view;
    page.view = view;
    render(view, previous);
  }

  function setFocus(agent) {
    page.focus = agent === page.focus ? null : agent;
    if (page.view) render(page.view, page.view);
  }

  function wireControls() {
    document.addEventListener("click", (event) => {
      const target = event.target instanceof Element ? event.target : null;
      if (!target) return;
      const row = target.closest("#leaderboard tr.agent-row, #equity-legend .legend-item");
      if (row && row.dataset.agent && !row.disabled) return setFocus(row.dataset.agent);
      if (target.closest("#focus-chip")) return setFocus(page.focus);
      const axis = target.closest("[data-axis]");
      if (axis && page.view) {
        page.axis = axis.dataset.axis;
        render(page.view, page.view);
      }
    });
    // Keep the raw JSON of a feed line open across updates.
    document.addEventListener("toggle", (event) => {
      const details = event.target;
      if (!(details instanceof HTMLDetailsElement) || !details.dataset.id) return;
      if (details.open) openDetails.add(details.dataset.id);
      else openDetails.delete(details.dataset.id);
    }, true);
  }

  // ---- access: a dashboard on a shared address needs its token ----
  // The token arrives once (?token=... in the address, or typed into the form), is kept in
  // sessionStorage for the tab's session, and goes with every data request: as a Bearer header on
  // fetch, as ?token= where a header cannot be set (EventSource, the report link).

  const TOKEN_KEY = "arenaDashboardToken";
  const access = { token: null };

  function takeToken() {
    const url = new URL(location.href);
    const given = url.searchParams.get("token");
    if (given) {
      storeToken(given);
      // Keep the token out of the address bar, history and bookmarks.
      url.searchParams.delete("token");
      history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
    try {
      access.token = given || sessionStorage.getItem(TOKEN_KEY);
    } catch {
      access.token = given;
    }
  }

  function storeToken(token) {
    access.token = token;
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // Storage disabled: the token lasts as long as the page.
    }
  }

  function withToken(path) {
    return access.token ? `${path}?token=${encodeURIComponent(access.token)}` : path;
  }

  async function allowed() {
    const headers = access.token ? { authorization: `Bearer ${access.token}` } : {};
    try {
      const response = await fetch("/api/auth", { headers, cache: "no-store" });
      return response.status !== 401;
    } catch {
      return true; // Server unreachable: the event stream retries by itself.
    }
  }

  function askToken(refused) {
    const form = $("auth");
    form.hidden = false;
    $("auth-error").textContent = refused ? "That token was refused." : "";
    const status = $("status");
    status.textContent = "token needed";
    status.className = "pill pill-offline";
    $("auth-token").focus();
  }

  function wireAccess() {
    $("auth").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("auth-token").value.trim();
      if (!value) return;
      $("auth-token").value = "";
      storeToken(value);
      $("auth").hidden = true;
      connect();
    });
  }

  async function connect() {
    if (!(await allowed())) {
      const refused = Boolean(access.token);
      storeToken(null);
      askToken(refused);
      return;
    }
    $("download").href = withToken("/report.html");
    follow();
  }

  function follow() {
    const source = new EventSource(withToken("/events"));
    source.addEventListener("view", (event) => {
      const message = JSON.parse(event.data);
      page.seq = message.seq;
      show(message.view);
    });
    source.addEventListener("delta", (event) => {
      const message = JSON.parse(event.data);
      if (!page.view || message.base !== page.seq) {
        // Out of step (a missed event): start again from a whole view.
        source.close();
        setTimeout(follow, 100);
        return;
      }
      page.seq = message.seq;
      show(applyDelta(page.view, message.delta));
    });
    source.addEventListener("error", () => {
      const status = $("status");
      status.textContent = "reconnecting";
      status.className = "pill pill-offline";
      // Refused (e.g. 401): the browser gives up; check access again after a pause.
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    });
  }

  function start() {
    wireControls();
    // For tests and the console: the view the page shows, its sequence number and the last
    // value each equity line draws on the chosen axis.
    globalThis.arenaDashboard = {
      view: () => page.view,
      seq: () => page.seq,
      equityLast: () => {
        const last = {};
        for (const [name, series] of charts.equitySeries) {
          const data = series.data();
          last[name] = data.length ? data[data.length - 1].value : null;
        }
        return last;
      },
    };
    const embedded = document.getElementById("report-data");
    if (embedded) {
      $("download").remove();
      show(JSON.parse(embedded.textContent));
      return;
    }
    wireAccess();
    takeToken();
    connect();
  }

  start();
})();
