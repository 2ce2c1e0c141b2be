// The dashboard: reads the JSON API every few seconds and draws what it gets; its control
// panel sends pause, resume and parameter changes through the command API (its own token,
// the token's role, and a confirmation round trip where chat would ask for one).
// Everything from the API is put in the page as text (textContent, setAttribute), never as
// markup, so a halt window named "<script>" shows as those characters.
"use strict";

(() => {
  const REFRESH_MS = 5000;
  const API = "/api/v1/";
  const KEY = "upbit-bot-api-token";
  const COMMAND_KEY = "upbit-bot-command-token";
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  class AuthError extends Error {}

  function takeToken() {
    // #token=... in the URL: keep it for this tab, then drop it from the address bar
    const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (match) {
      sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem(KEY);
  }

  async function get(path) {
    const response = await fetch(API + path, {
      headers: { Authorization: "Bearer " + sessionStorage.getItem(KEY) },
      cache: "no-store",
    });
    if (response.status === 401) throw new AuthError("the API refused the token");
    if (!response.ok) {
      let detail = response.statusText;
      try {
        detail = (await response.json()).error;
      } catch (_) {
        /* not JSON: keep the status text */
      }
      throw new Error(`${path}: ${response.status} ${detail}`);
    }
    return response.json();
  }

  // -- formatting (display only: the API's exact strings are rounded here) --------------------

  function krw(text) {
    if (text === null || text === undefined) return "-";
    return Math.round(Number(text)).toLocaleString("en-US");
  }

  function signed(text) {
    if (text === null || text === undefined) return "-";
    const value = Math.round(Number(text));
    return (value > 0 ? "+" : "") + value.toLocaleString("en-US");
  }

  function amount(text) {
    if (text === null || text === undefined) return "-";
    const [whole, fraction = ""] = String(text).split(".");
    const cut = fraction.slice(0, 8).replace(/0+$/, "");
    return cut ? `${whole}.${cut}` : whole;
  }

  function when(iso) {
    return iso ? iso.replace("T", " ").replace(/(\.\d+)?(Z|\+00:00)$/, "") : "-";
  }

  // -- DOM helpers --------------------------------------------------------------------------

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  // a table row named by one data attribute (e.g. data-market), one cell per [text, class]
  function tableRow(key, value, cells) {
    const row = document.createElement("tr");
    row.dataset[key] = value;
    for (const [text, cls] of cells) cell(row, text, cls);
    return row;
  }

  function fillTable(id, items, build, emptyText) {
    const body = $(id).tBodies[0];
    const rows = [];
    for (const item of items) rows.push(build(item));
    if (!rows.length) {
      const row = document.createElement("tr");
      row.className = "empty";
      const td = document.createElement("td");
      td.colSpan = $(id).tHead.rows[0].cells.length;
      td.textContent = emptyText;
      row.appendChild(td);
      rows.push(row);
    }
    body.replaceChildren(...rows);
  }

  function tone(text) {
    const value = Number(text);
    return value > 0 ? "up" : value < 0 ? "down" : "";
  }

  // -- sections -----------------------------------------------------------------------------

  function renderStatus(status) {
    $("mode").textContent = status.mode.toUpperCase();
    $("mode").className = "badge " + status.mode;
    $("trading").textContent = status.trading.replace("_", " ");
    $("trading").className = "badge " + status.trading;
    $("equity-now").textContent = krw(status.equity_krw) + " KRW";
    $("cash-now").textContent = krw(status.free_krw) + " KRW";
    $("market-time").textContent = when(status.market_time) + " UTC";
    renderUniverse(status.universe);
  }

  // the market universe: how it was chosen, then each market's part in it
  function renderUniverse(u) {
    $("universe-rule").textContent = u.chosen_by === "fixed"
      ? "fixed list (bot.markets)"
      : `top ${u.top} by 24-hour traded value, refreshed ${when(u.refreshed_at)} UTC` +
        ` (every ${u.refresh_every_s} s), ${u.changes} change(s)`;
    const parts = [
      ...u.markets.map((m) => [m, "in the universe", ""]),
      ...u.held_outside.map((m) => [m, "held outside: exits only", "down"]),
      ...u.excluded.map((x) => [x.market, "left out: " + x.reason, "dim"]),
    ];
    fillTable("universe", parts, ([market, part, cls]) => tableRow("market", market, [
      [market],
      [part, cls],
    ]), "no markets");
  }

  function renderPositions(data) {
    fillTable("positions", data.positions, (p) => tableRow("market", p.market, [
      [p.market],
      [p.state],
      [amount(p.volume), "num"],
      [krw(p.avg_entry_price), "num"],
      [krw(p.last_price), "num"],
      [krw(p.stop_price), "num"],
      [signed(p.unrealized_pnl_krw), "num " + tone(p.unrealized_pnl_krw)],
    ]), "no open positions");
  }

  function renderOrders(data) {
    fillTable("orders", data.open, (o) => tableRow("order", o.intent_id, [
      [o.intent_id],
      [o.market],
      [o.side === "bid" ? "buy" : "sell"],
      [o.ord_type],
      [krw(o.price), "num"],
      [amount(o.volume), "num"],
      [o.state],
    ]), "no open orders");
  }

  function renderFills(data) {
    fillTable("fills", data.trades, (f) => tableRow("trade", String(f.id), [
      [when(f.created_at)],
      [f.market],
      [f.side === "bid" ? "buy" : "sell", f.side === "bid" ? "up" : "down"],
      [krw(f.price), "num"],
      [amount(f.volume), "num"],
      [krw(f.funds), "num"],
      [krw(f.fee), "num"],
    ]), "no fills yet");
  }

  function renderEquity(pnl) {
    const points = pnl.equity
      .map((p) => [Date.parse(p.at), Number(p.equity_krw)])
      .filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v));
    $("realized").textContent = signed(pnl.realized_krw) + " KRW";
    const line = $("equity-line");
    if (!points.length) {
      line.setAttribute("d", "");
      return;
    }
    const t0 = points[0][0];
    const t1 = points[points.length - 1][0];
    let low = Math.min(...points.map((p) => p[1]));
    let high = Math.max(...points.map((p) => p[1]));
    if (high === low) {
      high += 1;
      low -= 1;
    }
    const [width, height, pad] = [800, 220, 20];
    const x = (t) => (t1 === t0 ? width : ((t - t0) / (t1 - t0)) * width);
    const y = (v) => pad + (1 - (v - low) / (high - low)) * (height - 2 * pad);
    const flat = y(points[0][1]).toFixed(1);
    const steps =
      points.length === 1
        ? [`M0,${flat}`, `L${width},${flat}`]
        : points.map(([t, v], i) => `${i ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    line.setAttribute("d", steps.join(" "));
    line.dataset.points = String(points.length);
    $("equity-max").textContent = Math.round(high).toLocaleString("en-US");
    $("equity-min").textContent = Math.round(low).toLocaleString("en-US");
  }

  function renderRisk(risk) {
    $("entries").textContent = risk.entries_allowed ? "new entries allowed" : "new entries blocked";
    $("entries").className = risk.entries_allowed ? "up" : "down";
    const items = risk.limits.map((limit) => {
      const li = document.createElement("li");
      li.dataset.limit = limit.name;
      li.textContent = limit.text;
      if (limit.blocking) li.className = "blocking";
      return li;
    });
    $("limits").replaceChildren(...items);
    fillTable("halts", risk.halts, (h) => tableRow("halt", h.name, [
      [h.name],
      [`${h.start} - ${h.end}`],
      [h.days.length ? h.days.join(",") : h.recurring ? "every day" : "once"],
      [h.active ? "ACTIVE until " + when(h.ends_at) : "scheduled", h.active ? "down" : ""],
      [when(h.next_start)],
    ]), "no halt windows");
  }

  // -- the control panel: the command API ------------------------------------------------

  let pending = null; // the confirmation id the last answer asked for

  function showControls() {
    const ready = Boolean(sessionStorage.getItem(COMMAND_KEY));
    $("command-auth").hidden = ready;
    $("controls").hidden = !ready;
  }

  function showAnswer(status, data) {
    const answer = $("answer");
    answer.textContent = data.text !== undefined ? data.text : `${status}: ${data.error}`;
    answer.dataset.status = String(status);
    answer.dataset.outcome = data.outcome || "";
    answer.className = "answer" + (status >= 300 ? " refused" : "");
    answer.hidden = false;
    pending = data.confirmation ? data.confirmation.id : null;
    $("pending").hidden = !pending;
    if (pending) {
      $("pending-until").textContent = `confirm before ${when(data.confirmation.expires_at)} UTC`;
    }
  }

  async function command(method, path, body) {
    const response = await fetch(API + path, {
      method,
      headers: {
        Authorization: "Bearer " + sessionStorage.getItem(COMMAND_KEY),
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ ...body, lang: "en" }),
      cache: "no-store",
    });
    let data;
    try {
      data = await response.json();
    } catch (_) {
      data = { error: response.statusText };
    }
    if (response.status === 401) {
      sessionStorage.removeItem(COMMAND_KEY);
      showControls();
    }
    showAnswer(response.status, data);
    if (response.ok) refresh().catch((err) => say("refresh failed: " + err.message));
  }

  // a token form: on submit, keep the trimmed token for this tab under key, clear the field
  // and go on
  function onTokenForm(form, input, key, then) {
    $(form).addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $(input).value.trim();
      if (!value) return;
      sessionStorage.setItem(key, value);
      $(input).value = "";
      then();
    });
  }

  function wireControls() {
    onTokenForm("command-auth", "command-token", COMMAND_KEY, showControls);
    $("forget").addEventListener("click", () => {
      sessionStorage.removeItem(COMMAND_KEY);
      showControls();
    });
    $("pause").addEventListener("click", () => command("POST", "pause", {}));
    $("resume").addEventListener("click", () => command("POST", "resume", {}));
    $("param-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("param-key").value.trim();
      const value = $("param-value").value.trim();
      if (key && value) command("PUT", "params/" + encodeURIComponent(key), { value });
    });
    $("confirm").addEventListener("click", () => {
      if (pending) command("POST", "confirmations/" + encodeURIComponent(pending), {});
    });
    $("cancel").addEventListener("click", () => {
      if (pending) command("DELETE", "confirmations/" + encodeURIComponent(pending), {});
    });
    showControls();
  }

  // -- the loop -----------------------------------------------------------------------------

  function say(text) {
    $("message").textContent = text;
    $("message").hidden = !text;
  }

  function askToken(reason) {
    sessionStorage.removeItem(KEY);
    say(reason);
    $("auth").hidden = false;
    $("main").hidden = true;
  }

  async function refresh() {
    const [status, positions, orders, trades, pnl, risk] = await Promise.all([
      get("status"),
      get("positions"),
      get("orders?limit=20"),
      get("trades?limit=20"),
      get("pnl?days=30"),
      get("risk"),
    ]);
    renderStatus(status);
    renderPositions(positions);
    renderOrders(orders);
    renderFills(trades);
    renderEquity(pnl);
    renderRisk(risk);
    const now = new Date();
    $("updated").dateTime = now.toISOString();
    $("updated").textContent = now.toLocaleTimeString("en-GB");
    say("");
  }

  async function tick() {
    if (!sessionStorage.getItem(KEY)) {
      askToken("Enter the API token to see the bot.");
      return;
    }
    try {
      await refresh();
    } catch (err) {
      if (err instanceof AuthError) {
        askToken("The API refused the token: enter it again.");
        return;
      }
      say("refresh failed: " + err.message);
    }
    setTimeout(tick, REFRESH_MS);
  }

  onTokenForm("auth", "token", KEY, () => {
    $("auth").hidden = true;
    $("main").hidden = false;
    tick();
  });

  takeToken();
  wireControls();
  tick();
})();
