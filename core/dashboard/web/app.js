// The web dashboard page: renders a DashboardView (core/dashboard/view.ts) and follows it live
// over server-sent events. In a report the view is embedded and nothing is fetched.
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
  const charts = {
    equity: null,
    equityTouched: false,
    equitySeries: new Map(),
    prices: new Map(),
  };
  const seenTrades = new Set();
  let firstRender = true;

  const $ = (id) => document.getElementById(id);

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

  function usd(value) {
    const n = Number(value);
    const text = groupThousands(Math.abs(n).toFixed(2));
    return (n < 0 && Math.abs(n) >= 0.005 ? "-$" : "$") + text;
  }

  function pct(value) {
    const n = Number(value);
    return (n > 0 ? "+" : "") + n.toFixed(2) + "%";
  }

  function qty(value) {
    return groupThousands(String(Number(Number(value).toFixed(8))));
  }

  function priceText(value) {
    const decimals = (String(value).split(".")[1] || "").length;
    return groupThousands(Number(value).toFixed(Math.min(8, Math.max(2, decimals))));
  }

  function signClass(value) {
    const n = Number(value);
    return n > 0 ? "pos" : n < 0 ? "neg" : "";
  }

  function colorOf(view, agent) {
    const names = view.agents.map((a) => a.name).sort();
    return PALETTE[names.indexOf(agent) % PALETTE.length] || PALETTE[0];
  }

  function timeText(iso) {
    return iso ? iso.replace("T", " ").replace(/(\.\d+)?Z$/, "Z") : "—";
  }

  function shortTime(iso) {
    return iso ? iso.slice(5, 10) + " " + iso.slice(11, 19) : "—";
  }

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
    rightPriceScale: { borderColor: "#262c36" },
    timeScale: {
      borderColor: "#262c36",
      timeVisible: true,
      secondsVisible: false,
      minBarSpacing: 0.01,
    },
    crosshair: { mode: 0 },
  });

  function renderHeader(view) {
    const status = $("status");
    status.textContent = view.status.replace("_", " ");
    status.className = "pill pill-" + view.status;
    $("clock").textContent = timeText(view.clock.time);
    $("tick").textContent = view.clock.tick === null ? "—" : String(view.clock.tick);
    $("counts").textContent = view.counts.ledger + " ledger · " + view.counts.prices +
      " prices · " + view.counts.activity + " activity";
  }

  function renderLeaderboard(view) {
    const rows = view.agents.map((agent) => {
      const p = agent.portfolio;
      return `<tr class="rank-${agent.rank}" data-agent="${escapeHtml(agent.name)}">
        <td data-field="rank">${agent.rank}</td>
        <td class="left agent-name" data-field="agent"><span class="agent-dot" style="background:${
        colorOf(view, agent.name)
      }"></span>${escapeHtml(agent.name)}</td>
        <td class="left muted" data-field="model">${escapeHtml(agent.model)}</td>
        <td data-field="equity">${usd(p.equity)}</td>
        <td data-field="return" class="${signClass(agent.returnPct)}">${pct(agent.returnPct)}</td>
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
        <td></td><td class="left" data-field="agent">${escapeHtml(b.name)}</td><td></td><td></td>
        <td data-field="return" class="${signClass(b.returnPct)}">${pct(b.returnPct)}</td>
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

  function renderEquity(view) {
    if (!charts.equity) {
      charts.equity = LightweightCharts.createChart($("equity-chart"), chartOptions(320));
      watchTouch($("equity-chart"), () => charts.equityTouched = true);
      fitOnResize($("equity-chart"), charts.equity, () => charts.equityTouched);
    }
    const wanted = new Map(view.agents.map((a) => [a.name, a]));
    if (view.benchmark) wanted.set(view.benchmark.name, view.benchmark);
    for (const [name, series] of charts.equitySeries) {
      if (!wanted.has(name)) {
        charts.equity.removeSeries(series);
        charts.equitySeries.delete(name);
      }
    }
    const legend = [];
    for (const [name, row] of wanted) {
      const benchmark = view.benchmark && name === view.benchmark.name;
      const color = benchmark ? BENCHMARK_COLOR : colorOf(view, name);
      let series = charts.equitySeries.get(name);
      if (!series) {
        series = charts.equity.addSeries(LightweightCharts.LineSeries, {
          color,
          lineWidth: benchmark ? 1 : 2,
          lineStyle: benchmark ? 2 : 0,
          priceLineVisible: false,
          lastValueVisible: true,
          title: name,
        });
        charts.equitySeries.set(name, series);
      }
      series.applyOptions({ color });
      series.setData(row.equityCurve);
      legend.push(
        `<span><span class="swatch" style="background:${color}"></span>${escapeHtml(name)}</span>`,
      );
    }
    $("equity-legend").innerHTML = legend.join("");
    if (!charts.equityTouched) charts.equity.timeScale().fitContent();
  }

  function renderPrices(view) {
    $("price-legend").innerHTML =
      view.agents.map((agent) =>
        `<span><span class="swatch" style="background:${colorOf(view, agent.name)}"></span>${
          escapeHtml(agent.name)
        }</span>`
      ).join("") + '<span class="muted">▲ buy · ▼ sell</span>';
    const grid = $("price-charts");
    if (view.products.length === 0 && !grid.firstChild) {
      grid.innerHTML = '<div class="empty">Waiting for prices…</div>';
    }
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
        entry = { card, chart, series, markers, touched: false };
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
      entry.series.setData(product.history);
      const labelled = product.fills.length <= MARKER_TEXT_LIMIT;
      entry.markers.setMarkers(product.fills.map((fill) => ({
        time: fill.time,
        position: fill.side === "buy" ? "belowBar" : "aboveBar",
        shape: fill.side === "buy" ? "arrowUp" : "arrowDown",
        color: colorOf(view, fill.agent),
        text: labelled ? (fill.side === "buy" ? "B " : "S ") + fill.agent : "",
        size: labelled ? 1 : 0.7,
      })));
      if (!entry.touched) entry.chart.timeScale().fitContent();
    }
  }

  function renderPositions(view) {
    const rows = [];
    for (const agent of view.agents) {
      for (const p of agent.portfolio.positions) {
        rows.push(
          `<tr data-agent="${escapeHtml(agent.name)}" data-product="${escapeHtml(p.productId)}">
          <td class="left agent-name"><span class="agent-dot" style="background:${
            colorOf(view, agent.name)
          }"></span>${escapeHtml(agent.name)}</td>
          <td class="left">${escapeHtml(p.productId)}</td>
          <td>${qty(p.quantity)}</td>
          <td>${usd(p.costBasis)}</td>
          <td>${usd(p.marketValue)}</td>
          <td class="${signClass(p.unrealizedPnl)}">${usd(p.unrealizedPnl)} (${
            pct(p.unrealizedPnlPct)
          })</td>
        </tr>`,
        );
      }
    }
    if (rows.length === 0) {
      rows.push('<tr><td colspan="6" class="empty">No open positions</td></tr>');
    }
    document.querySelector("#positions tbody").innerHTML = rows.join("");
  }

  function renderTrades(view) {
    const rows = view.trades.map((t) => {
      const fresh = !firstRender && !seenTrades.has(t.eventId);
      seenTrades.add(t.eventId);
      return `<tr data-trade="${escapeHtml(t.eventId)}" data-agent="${escapeHtml(t.agent)}"${
        fresh ? ' class="fresh"' : ""
      }>
        <td class="left muted" title="${escapeHtml(t.time)}">${escapeHtml(shortTime(t.time))}</td>
        <td class="left agent-name">${escapeHtml(t.agent)}</td>
        <td class="left ${t.side}">${t.side.toUpperCase()}</td>
        <td class="left">${escapeHtml(t.productId)}</td>
        <td>${qty(t.quantity)}</td>
        <td>${priceText(t.fillPrice)}</td>
        <td>${usd(t.notional)}</td>
        <td class="muted">${usd(t.fee)}</td>
      </tr>`;
    });
    if (rows.length === 0) rows.push('<tr><td colspan="8" class="empty">No trades yet</td></tr>');
    document.querySelector("#trades tbody").innerHTML = rows.join("");
  }

  function renderActivity(view) {
    const items = view.activity.map((a) =>
      `<li data-agent="${escapeHtml(a.agent)}" data-kind="${escapeHtml(a.kind)}">
        <div class="meta"><span class="agent-name" style="color:${colorOf(view, a.agent)}">${
        escapeHtml(a.agent)
      }</span><span class="kind kind-${escapeHtml(a.kind)}">${
        escapeHtml(a.kind.replace("_", " "))
      }</span><span>${escapeHtml(timeText(a.time))}</span></div>
        <div class="text${a.kind === "reasoning" ? "" : " code"}">${escapeHtml(a.text)}</div>
      </li>`
    );
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

  function render(view) {
    renderHeader(view);
    renderLeaderboard(view);
    renderEquity(view);
    renderPrices(view);
    renderPositions(view);
    renderTrades(view);
    renderActivity(view);
    firstRender = false;
    requestAnimationFrame(() => requestAnimationFrame(fitCharts));
    document.body.dataset.version = String((Number(document.body.dataset.version) || 0) + 1);
  }

  function start() {
    const embedded = document.getElementById("report-data");
    if (embedded) {
      $("download").remove();
      render(JSON.parse(embedded.textContent));
      return;
    }
    const source = new EventSource("/events");
    source.addEventListener("view", (event) => render(JSON.parse(event.data)));
    source.addEventListener("error", () => {
      const status = $("status");
      status.textContent = "reconnecting";
      status.className = "pill pill-offline";
    });
  }

  start();
})();
