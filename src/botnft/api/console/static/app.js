// The B.O.T console: a page on the API, with the caller's access token (kept in memory only).
// Calls go one at a time; a 429 is waited out (Retry-After) and tried again.
"use strict";

const state = { token: null, refresh: null, scopes: [], runsCursor: null, node: null, ws: null };
const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function cell(row, text, numeric) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (numeric) td.className = "num";
  row.appendChild(td);
  return td;
}

function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

// ---- calls ---------------------------------------------------------------------------------------

let chain = Promise.resolve();

function call(method, path, options) {
  const result = chain.then(() => send(method, path, options || {}));
  chain = result.catch(() => undefined);
  return result;
}

async function send(method, path, { form, json } = {}, refreshed = false) {
  for (let attempt = 0; attempt < 6; attempt++) {
    const headers = { Accept: "application/json" };
    let body;
    if (state.token) headers.Authorization = "Bearer " + state.token;
    if (form) body = new URLSearchParams(form);
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    const answer = await fetch(path, { method, headers, body, cache: "no-store", credentials: "omit" });
    if (answer.status === 429) {
      const wait = Number(answer.headers.get("Retry-After")) || 1;
      await sleep(Math.min(10, Math.max(1, wait)) * 1000);
      continue;
    }
    const type = answer.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await answer.json() : await answer.text();
    if (answer.status === 401 && state.refresh && !refreshed && !form) {
      if (await refreshToken()) return send(method, path, { form, json }, true);
      logout("your session ended: log in again");
    }
    if (!answer.ok) {
      const detail = data && typeof data === "object" ? data.detail || data.title : answer.statusText;
      throw new ApiError(answer.status, detail || "HTTP " + answer.status);
    }
    return data;
  }
  throw new ApiError(429, "too many requests: try again in a moment");
}

async function refreshToken() {
  try {
    const token = await send("POST", "/v1/auth/token", {
      form: { grant_type: "refresh_token", refresh_token: state.refresh },
    });
    state.token = token.access_token;
    state.refresh = token.refresh_token || null;
    return true;
  } catch (error) {
    return false;
  }
}

// ---- login ---------------------------------------------------------------------------------------

async function login(event) {
  event.preventDefault();
  showError("");
  const username = $("username").value;
  try {
    const token = await call("POST", "/v1/auth/token", {
      form: { grant_type: "password", username, password: $("password").value },
    });
    state.token = token.access_token;
    state.refresh = token.refresh_token || null;
    state.scopes = (token.scope || "").split(" ");
    $("password").value = "";
    $("who").textContent = username + " (" + token.scope + ")";
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    $("logout").hidden = false;
    document.body.dataset.state = "logged-in";
    showTab("runs");
    await loadRuns(true);
  } catch (error) {
    showError("log in failed: " + error.message);
  }
}

function logout(message) {
  closeEvents();
  state.token = state.refresh = null;
  state.scopes = [];
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  $("logout").hidden = true;
  $("who").textContent = "";
  document.body.dataset.state = "logged-out";
  showError(message || "");
}

function showTab(name) {
  for (const tab of ["runs", "nodes"]) {
    $(tab + "-view").hidden = tab !== name;
    $("tab-" + tab).setAttribute("aria-pressed", String(tab === name));
  }
}

// ---- runs ----------------------------------------------------------------------------------------

function percent(x) {
  return x === null || x === undefined ? "" : (100 * x).toFixed(2) + " %";
}

async function loadRuns(fresh) {
  if (fresh) {
    state.runsCursor = null;
    clear($("runs").tBodies[0]);
  }
  const query = "/v1/runs?limit=25" + (state.runsCursor ? "&cursor=" + encodeURIComponent(state.runsCursor) : "");
  try {
    const page = await call("GET", query);
    const body = $("runs").tBodies[0];
    for (const run of page.items) {
      const row = body.insertRow();
      row.className = "pick";
      row.dataset.run = run.id;
      cell(row, run.id, true);
      cell(row, run.strategy);
      cell(row, run.data);
      cell(row, run.venue);
      cell(row, run.final_equity, true);
      cell(row, percent(run.total_return), true);
      cell(row, percent(run.max_drawdown), true);
      cell(row, run.sharpe === null ? "" : run.sharpe.toFixed(2), true);
      cell(row, run.fills, true);
      row.addEventListener("click", () => openRun(run.id));
    }
    state.runsCursor = page.next_cursor;
    $("runs-more").hidden = !page.next_cursor;
  } catch (error) {
    showError("runs: " + error.message);
  }
}

async function openRun(id) {
  showError("");
  for (const row of $("runs").tBodies[0].rows) row.classList.toggle("chosen", row.dataset.run === String(id));
  const box = $("run-detail");
  box.hidden = false;
  box.dataset.run = id;
  box.dataset.loaded = "false";
  $("run-title").textContent = "Run " + id;
  clear($("equity-chart"));
  $("chart-note").textContent = "loading the equity curve…";
  try {
    const run = await call("GET", "/v1/runs/" + id);
    $("run-title").textContent = "Run " + id + " · " + run.strategy + " on " + run.data + " (" + run.venue + ")";
    const report = $("run-report").tBodies[0];
    clear(report);
    const lines = Object.assign(
      {
        "initial cash": run.initial_cash,
        "final equity": run.final_equity,
        "total return": percent(run.total_return),
        "max drawdown": percent(run.max_drawdown),
        sharpe: run.sharpe,
        bars: run.bars,
        fills: run.fills,
        "round trips": run.round_trips,
        "fees paid": run.fees_paid,
        "funding paid": run.funding_paid,
        period: (run.start || "") + " → " + (run.end || ""),
        params: JSON.stringify(run.params),
      },
      flatSummary(run.summary)
    );
    for (const [key, value] of Object.entries(lines)) {
      const row = report.insertRow();
      cell(row, key);
      cell(row, value);
    }
    try {
      const curve = await call("GET", "/v1/runs/" + id + "/equity");
      drawChart(curve);
    } catch (error) {
      $("chart-note").textContent = "no equity curve: " + error.message;
    }
    const fills = await call("GET", "/v1/runs/" + id + "/fills?limit=50");
    const body = $("run-fills").tBodies[0];
    clear(body);
    for (const fill of fills.items) {
      const row = body.insertRow();
      cell(row, fill.ts);
      cell(row, fill.venue);
      cell(row, fill.symbol);
      cell(row, fill.side);
      cell(row, fill.amount, true);
      cell(row, fill.price, true);
      cell(row, fill.fee, true);
    }
  } catch (error) {
    showError("run " + id + ": " + error.message);
  }
  box.dataset.loaded = "true";
}

function flatSummary(summary) {
  const out = {};
  for (const [key, value] of Object.entries(summary || {})) {
    if (value === null || typeof value !== "object") out["summary." + key] = value;
  }
  return out;
}

const SVG = "http://www.w3.org/2000/svg";

function svg(name, attributes, text) {
  const el = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

function drawChart(curve) {
  const chart = $("equity-chart");
  clear(chart);
  const xs = curve.ts_ns;
  const ys = curve.equity;
  if (!ys.length) {
    $("chart-note").textContent = "the curve is empty";
    return;
  }
  const [w, h, left, right, top, bottom] = [800, 260, 70, 10, 10, 30];
  const x0 = xs[0];
  const x1 = xs[xs.length - 1] === x0 ? x0 + 1 : xs[xs.length - 1];
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  if (hi === lo) {
    hi += 1;
    lo -= 1;
  }
  const px = (x) => left + ((x - x0) / (x1 - x0)) * (w - left - right);
  const py = (y) => top + (1 - (y - lo) / (hi - lo)) * (h - top - bottom);
  chart.appendChild(svg("line", { class: "axis", x1: left, y1: h - bottom, x2: w - right, y2: h - bottom }));
  chart.appendChild(svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: h - bottom }));
  chart.appendChild(svg("text", { x: 4, y: top + 10 }, hi.toFixed(2)));
  chart.appendChild(svg("text", { x: 4, y: h - bottom }, lo.toFixed(2)));
  const day = (ns) => new Date(ns / 1e6).toISOString().slice(0, 10);
  chart.appendChild(svg("text", { x: left, y: h - 8 }, day(x0)));
  chart.appendChild(svg("text", { x: w - right - 70, y: h - 8 }, day(xs[xs.length - 1])));
  const points = xs.map((x, i) => px(x).toFixed(1) + "," + py(ys[i]).toFixed(1)).join(" ");
  chart.appendChild(svg("polyline", { class: "line", points }));
  chart.dataset.points = String(ys.length);
  $("chart-note").textContent =
    curve.points + " points, from " + ys[0].toFixed(2) + " to " + ys[ys.length - 1].toFixed(2);
}

// ---- nodes ---------------------------------------------------------------------------------------

async function loadNodes() {
  try {
    const nodes = await call("GET", "/v1/nodes");
    const body = $("nodes").tBodies[0];
    clear(body);
    for (const node of nodes) {
      const row = body.insertRow();
      row.className = "pick";
      row.dataset.node = node.run_id;
      row.dataset.status = node.status;
      cell(row, node.run_id);
      cell(row, node.kind);
      cell(row, node.status);
      cell(row, node.bars_done, true);
      cell(row, node.last_event);
      cell(row, node.kill_requested ? "yes" : "no");
      row.addEventListener("click", () => openNode(node.run_id));
    }
    $("nodes").dataset.loaded = "true";
  } catch (error) {
    showError("nodes: " + error.message);
  }
}

function showStatus(status, halted, killRequested) {
  $("node-status").textContent = status + (killRequested && status === "running" ? " (kill flagged)" : "");
  $("node-detail").dataset.status = status;
  const entries = Object.entries(halted || {});
  $("node-risk").textContent = entries.length ? "halted: " + entries.map((e) => e.join(" ")).join(", ") : "ok";
  $("kill").disabled = status !== "running" || !state.scopes.includes("trade");
}

async function openNode(id) {
  showError("");
  closeEvents();
  state.node = id;
  const box = $("node-detail");
  box.hidden = false;
  box.dataset.node = id;
  $("node-title").textContent = "Node " + id;
  clear($("events"));
  try {
    const node = await call("GET", "/v1/nodes/" + encodeURIComponent(id));
    showStatus(node.status, node.halted, node.kill_requested);
    const positions = await call("GET", "/v1/nodes/" + encodeURIComponent(id) + "/positions");
    const table = $("node-positions").tBodies[0];
    clear(table);
    for (const [group, values] of Object.entries({
      position: positions.positions,
      venue: positions.venue_positions,
      balance: positions.balances,
    })) {
      for (const [where, assets] of Object.entries(values || {})) {
        for (const [asset, amount] of Object.entries(assets)) {
          const row = table.insertRow();
          cell(row, group);
          cell(row, where);
          cell(row, asset);
          cell(row, amount, true);
        }
      }
    }
    const orders = await call("GET", "/v1/nodes/" + encodeURIComponent(id) + "/orders");
    const body = $("node-orders").tBodies[0];
    clear(body);
    for (const order of orders.orders) {
      const row = body.insertRow();
      cell(row, order.client_order_id);
      cell(row, order.instrument);
      cell(row, order.side);
      cell(row, order.amount, true);
      cell(row, order.filled, true);
      cell(row, order.status);
    }
  } catch (error) {
    showError("node " + id + ": " + error.message);
  }
  openEvents(id);
}

function closeEvents() {
  if (state.ws) {
    state.ws.onclose = null;
    state.ws.close();
    state.ws = null;
  }
  $("events-state").textContent = "";
}

function openEvents(id) {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "/v1/ws/events?node=" + encodeURIComponent(id));
  state.ws = ws;
  $("events-state").textContent = "(connecting)";
  ws.onopen = () => {
    ws.send(JSON.stringify({ token: state.token })); // in the first message: never in a logged URL
    $("events-state").textContent = "(live)";
  };
  ws.onmessage = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch (error) {
      return;
    }
    if (event.type === "status") showStatus(event.status, event.halted, event.kill_requested);
    if (event.type === "hello") $("node-detail").dataset.events = "live";
    const item = document.createElement("li");
    item.textContent = new Date().toISOString().slice(11, 19) + " " + event.type + " " + summarise(event);
    const list = $("events");
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 200) list.removeChild(list.lastChild);
  };
  ws.onclose = (event) => {
    $("events-state").textContent = "(closed" + (event.reason ? ": " + event.reason : "") + ")";
    if (state.ws === ws) state.ws = null;
  };
}

function summarise(event) {
  const copy = Object.assign({}, event);
  delete copy.type;
  return JSON.stringify(copy).slice(0, 300);
}

function askKill() {
  if (!state.node) return;
  $("kill-node").textContent = state.node;
  $("kill-dialog").showModal();
}

async function killConfirmed() {
  const id = state.node;
  $("kill").disabled = true;
  try {
    const action = await call("POST", "/v1/nodes/" + encodeURIComponent(id) + "/kill?wait=5");
    showStatus(action.status, {}, true);
    $("node-detail").dataset.killed = action.detail;
    await loadNodes();
  } catch (error) {
    showError("kill " + id + ": " + error.message);
    $("kill").disabled = false;
  }
}

// ---- wiring --------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => logout(""));
  $("tab-runs").addEventListener("click", () => showTab("runs"));
  $("tab-nodes").addEventListener("click", () => {
    showTab("nodes");
    loadNodes();
  });
  $("nodes-refresh").addEventListener("click", loadNodes);
  $("runs-more").addEventListener("click", () => loadRuns(false));
  $("kill").addEventListener("click", askKill);
  $("kill-dialog").addEventListener("close", () => {
    if ($("kill-dialog").returnValue === "confirm") killConfirmed();
  });
  document.body.dataset.state = "logged-out";
});
