/// The admin page: one HTML document with its CSS and JavaScript inline (no CDN, no build
/// step), so it works on a LAN with no internet. It talks only to the REST API.
enum AdminPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>clasp-gateway admin</title>
<style>
:root { --bg:#f4f5f7; --card:#fff; --ink:#1d2430; --muted:#5d6778; --accent:#1f6feb; --bad:#c62828; --ok:#2e7d32; --line:#dde1e7; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, sans-serif; background:var(--bg); color:var(--ink); }
header { background:#1d2430; color:#fff; padding:10px 18px; display:flex; align-items:center; gap:18px; flex-wrap:wrap; }
header h1 { font-size:17px; margin:0; font-weight:600; }
nav button { background:none; border:0; color:#c9d1dc; padding:6px 10px; font:inherit; cursor:pointer; border-radius:4px; }
nav button.active, nav button:hover { background:#344052; color:#fff; }
main { max-width:1100px; margin:18px auto; padding:0 14px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:16px 18px; margin-bottom:16px; }
.card h2 { margin:0 0 10px; font-size:16px; }
.grid { display:grid; grid-template-columns:repeat(auto-fill,minmax(170px,1fr)); gap:12px; }
.stat { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px; }
.stat b { display:block; font-size:22px; }
.stat span { color:var(--muted); font-size:13px; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; font-size:14px; }
th { color:var(--muted); font-weight:600; }
td.mono, .mono { font-family:ui-monospace, monospace; font-size:13px; word-break:break-all; }
input, select, textarea { font:inherit; padding:6px 8px; border:1px solid #b9c1cc; border-radius:5px; }
button.primary, button.plain { font:inherit; padding:6px 14px; border-radius:5px; cursor:pointer; border:1px solid var(--accent); }
button.primary { background:var(--accent); color:#fff; }
button.plain { background:#fff; color:var(--accent); }
button.danger { border-color:var(--bad); color:var(--bad); }
label { display:block; margin:8px 0 3px; font-weight:600; font-size:14px; }
.help { color:var(--muted); font-size:13px; margin:2px 0 0; }
.error { color:var(--bad); font-size:13px; margin:3px 0 0; }
.notice { padding:8px 12px; border-radius:5px; margin:8px 0; }
.notice.bad { background:#fdecea; color:var(--bad); }
.notice.good { background:#e8f5e9; color:var(--ok); }
.row { display:flex; gap:8px; align-items:end; flex-wrap:wrap; }
.state-running { color:var(--ok); font-weight:600; }
.state-retrying, .state-degraded { color:var(--bad); font-weight:600; }
.state-disabled { color:var(--muted); }
.center { max-width:420px; margin:60px auto; }
pre.logs { background:#11161d; color:#cfd8e3; padding:10px; border-radius:6px; max-height:420px; overflow:auto; font-size:12px; white-space:pre-wrap; }
.hidden { display:none !important; }
tr.flash td { background:#fff7d6; }
.faders { display:grid; grid-template-columns:repeat(auto-fill,minmax(44px,1fr)); gap:6px; }
.fader { display:flex; flex-direction:column; align-items:center; font-size:11px; color:var(--muted); }
.fader input { writing-mode:vertical-lr; direction:rtl; height:110px; width:22px; padding:0; }
.fader b { color:#222; font-weight:600; font-family:ui-monospace, monospace; }
</style>
</head>
<body>
<header>
  <h1 id="title">clasp-gateway</h1>
  <nav id="nav" class="hidden">
    <button data-page="dashboard">Dashboard</button><button data-page="signals">Signals</button><button data-page="transports">Transports</button><button data-page="bridges">Bridges</button><button data-page="dmx">DMX</button><button data-page="security">Security</button><button data-page="system">System</button>
  </nav>
</header>
<main>
  <section id="setup" class="hidden center card">
    <h2>Welcome — set the admin password</h2>
    <p class="help">This gateway has no admin password yet. Choose one (at least 8 characters); you will use it to log in to this page.</p>
    <form id="setup-form">
      <label for="setup-password">New password</label><input id="setup-password" type="password" autocomplete="new-password" style="width:100%">
      <label for="setup-confirm">Repeat it</label><input id="setup-confirm" type="password" autocomplete="new-password" style="width:100%">
      <p id="setup-error" class="error"></p>
      <button id="setup-submit" class="primary" type="submit">Set password and continue</button>
    </form>
  </section>
  <section id="login" class="hidden center card">
    <h2>Log in</h2>
    <form id="login-form">
      <label for="login-password">Admin password</label><input id="login-password" type="password" autocomplete="current-password" style="width:100%">
      <p id="login-error" class="error"></p>
      <button id="login-submit" class="primary" type="submit">Log in</button>
    </form>
  </section>

  <section id="page-dashboard" class="page hidden">
    <div class="grid" id="stats"></div>
  </section>

  <section id="page-signals" class="page hidden">
    <div class="card">
      <h2>Live signals</h2>
      <div class="row">
        <div><label for="monitor-pattern">Address pattern</label><input id="monitor-pattern" value="/**" size="30"></div>
        <button id="monitor-watch" class="primary">Watch</button>
        <span class="help" id="monitor-state"></span>
      </div>
      <p class="help">Patterns: <span class="mono">*</span> matches one segment, <span class="mono">**</span> any number (e.g. <span class="mono">/lights/**</span>).</p>
      <table><thead><tr><th>Address</th><th>Value</th><th>Revision</th><th>Writer</th><th>Type</th></tr></thead><tbody id="monitor-rows"></tbody></table>
    </div>
    <div class="card">
      <h2>Set a value</h2>
      <form id="set-form" class="row">
        <div><label for="set-address">Address</label><input id="set-address" placeholder="/lights/1/level" size="30"></div>
        <div><label for="set-value">Value</label><input id="set-value" placeholder="0.5, true, &quot;text&quot; or JSON" size="24"></div>
        <button class="primary" type="submit">Set</button>
      </form>
      <p id="set-result" class="help"></p>
    </div>
  </section>

  <section id="page-dmx" class="page hidden">
    <div class="card">
      <h2>DMX universe</h2>
      <div class="row">
        <div><label for="dmx-universe">Universe</label><select id="dmx-universe"></select></div>
        <span class="help" id="dmx-state"></span>
      </div>
      <p class="help">The params <span class="mono">/dmx/&lt;universe&gt;/&lt;channel&gt;</span> (levels 0–255) that the DMX, sACN and Art-Net bridges send and receive. Moving a fader sets its channel; changes from anywhere show here live.</p>
      <div class="faders" id="dmx-faders"></div>
    </div>
  </section>

  <section id="page-transports" class="page hidden">
    <div class="card"><h2>Listeners</h2>
      <table><thead><tr><th>What</th><th>Protocol</th><th>Address</th><th>Port</th></tr></thead><tbody id="transport-rows"></tbody></table>
    </div>
  </section>

  <section id="page-bridges" class="page hidden">
    <div class="card"><h2>Bridges</h2>
      <table><thead><tr><th>Id</th><th>Kind</th><th>State</th><th>Counters</th><th></th></tr></thead><tbody id="bridge-rows"></tbody></table>
      <p id="bridge-empty" class="help"></p>
    </div>
    <div class="card" id="bridge-editor">
      <h2 id="bridge-editor-title">Add a bridge</h2>
      <div id="no-kinds" class="notice bad hidden">This build of the gateway has no bridge kinds yet.</div>
      <form id="bridge-form">
        <label for="bridge-kind">Kind</label><select id="bridge-kind"></select>
        <p class="help" id="bridge-kind-help"></p>
        <label for="bridge-id">Name (letters, digits, - and _)</label><input id="bridge-id" placeholder="stage">
        <p class="error" data-error="id"></p>
        <label><input id="bridge-enabled" type="checkbox" checked> Enabled</label>
        <div id="bridge-fields"></div>
        <p id="bridge-error" class="error"></p>
        <div class="row"><button id="bridge-save" class="primary" type="submit">Add bridge</button><button id="bridge-cancel" class="plain hidden" type="button">Cancel</button></div>
      </form>
    </div>
  </section>

  <section id="page-security" class="page hidden">
    <div class="card"><h2>Change the admin password</h2>
      <form id="password-form">
        <label for="password-current">Current password</label><input id="password-current" type="password" autocomplete="current-password">
        <label for="password-new">New password (at least 8 characters)</label><input id="password-new" type="password" autocomplete="new-password">
        <p id="password-result" class="help"></p>
        <button class="primary" type="submit">Change password</button>
      </form>
    </div>
    <div class="card"><h2>API tokens</h2>
      <p class="help">For scripts: send <span class="mono">Authorization: Bearer &lt;token&gt;</span> to the REST API (<a href="/api/openapi.json">OpenAPI description</a>).</p>
      <table><thead><tr><th>Name</th><th>Id</th><th>Created</th><th></th></tr></thead><tbody id="token-rows"></tbody></table>
      <form id="token-form" class="row"><div><label for="token-name">New token name</label><input id="token-name" placeholder="backup script"></div><button class="primary" type="submit">Create token</button></form>
      <p id="token-result" class="help mono"></p>
    </div>
    <div class="card"><button id="logout" class="plain">Log out</button></div>
  </section>

  <section id="page-system" class="page hidden">
    <div class="card"><h2>Configuration</h2>
      <p class="help">Export downloads the running config as a TOML file; import checks a file, applies it (bridges at once; ports and limits at the next restart) and saves it.</p>
      <div class="row"><a class="plain" id="export-link" href="/api/config" download="clasp-gateway.toml"><button class="plain" type="button">Export config</button></a>
      <input id="import-file" type="file" accept=".toml,text/plain"><button id="import-button" class="primary">Import</button></div>
      <p id="import-result" class="help"></p>
    </div>
    <div class="card"><h2>Restart</h2><button id="restart" class="plain danger">Restart the gateway</button> <span id="restart-result" class="help"></span></div>
    <div class="card"><h2>Log</h2><pre class="logs" id="logs"></pre></div>
  </section>
</main>
<script>
"use strict";
let csrf = "";
let kinds = [];
let monitor = null;
let editing = null;
let timers = [];
let previous = null;
const $ = (id) => document.getElementById(id);

async function api(method, path, body, raw) {
  const headers = {};
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  let payload;
  if (body !== undefined) {
    if (raw) { payload = body; headers["Content-Type"] = "application/toml"; }
    else { payload = JSON.stringify(body); headers["Content-Type"] = "application/json"; }
  }
  const response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  const type = response.headers.get("Content-Type") || "";
  const data = type.startsWith("application/json") ? await response.json() : await response.text();
  if (response.status === 401 && path !== "/api/auth/login" && path !== "/api/auth/password") { await start(); }
  return { status: response.status, ok: response.ok, data };
}

function text(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}
function cell(row, value, cls) { const td = document.createElement("td"); td.textContent = text(value); if (cls) td.className = cls; row.appendChild(td); return td; }
function show(id, visible) { $(id).classList.toggle("hidden", !visible); }
function problems(data) { return (data && data.problems) || []; }

async function start() {
  const state = await (await fetch("/api/auth", { credentials: "same-origin" })).json();
  $("title").textContent = state.name + " · clasp-gateway " + state.version;
  document.title = state.name + " admin";
  show("setup", state.setup_required);
  show("login", !state.setup_required && !state.authenticated);
  show("nav", state.authenticated);
  if (!state.authenticated) { document.querySelectorAll(".page").forEach((p) => p.classList.add("hidden")); return; }
  csrf = state.csrf;
  const kindsAnswer = await api("GET", "/api/bridge-kinds");
  kinds = kindsAnswer.ok ? kindsAnswer.data : [];
  fillKinds();
  open(location.hash.slice(1) || "dashboard");
}

function open(page) {
  if (!$("page-" + page)) page = "dashboard";
  timers.forEach(clearInterval); timers = [];
  if (monitor && page !== "signals") { monitor.close(); monitor = null; }
  if (dmxMonitor && page !== "dmx") { dmxMonitor.close(); dmxMonitor = null; }
  document.querySelectorAll(".page").forEach((p) => p.classList.add("hidden"));
  show("page-" + page, true);
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b.dataset.page === page));
  history.replaceState(null, "", "#" + page);
  const every = (fn, ms) => { fn(); timers.push(setInterval(fn, ms)); };
  if (page === "dashboard") every(loadStatus, 2000);
  if (page === "signals") { if (!monitor) watch(); every(loadWriters, 3000); }
  if (page === "transports") loadTransports();
  if (page === "bridges") every(loadBridges, 2000);
  if (page === "dmx") loadUniverses();
  if (page === "security") loadTokens();
  if (page === "system") every(loadLogs, 3000);
}

function formatBytes(n) { return n > 1048576 ? (n / 1048576).toFixed(1) + " MB" : (n / 1024).toFixed(0) + " kB"; }
function formatUptime(s) { const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60); return (d ? d + " d " : "") + h + " h " + m + " min"; }

async function loadStatus() {
  const answer = await api("GET", "/api/status");
  if (!answer.ok) return;
  const s = answer.data;
  const received = Object.values(s.messages_received).reduce((a, b) => a + b, 0);
  const now = Date.now();
  let cpu = "…", rate = "…";
  if (previous) {
    const seconds = (now - previous.at) / 1000;
    cpu = ((s.cpu_seconds - previous.cpu) / seconds * 100).toFixed(1) + " %";
    rate = ((received - previous.received) / seconds).toFixed(1) + " /s";
  }
  previous = { at: now, cpu: s.cpu_seconds, received };
  const stats = [["Version", s.version], ["Uptime", formatUptime(s.uptime_seconds)], ["CPU", cpu], ["Memory (RSS)", formatBytes(s.memory_rss_bytes)],
    ["Sessions", s.sessions], ["Params", s.params], ["Messages in", rate], ["Messages in (total)", received]];
  const grid = $("stats"); grid.textContent = "";
  for (const [name, value] of stats) {
    const div = document.createElement("div"); div.className = "stat";
    const b = document.createElement("b"); b.textContent = value; const span = document.createElement("span"); span.textContent = name;
    div.append(b, span); grid.appendChild(div);
  }
}

const rows = new Map();
function watch() {
  if (monitor) monitor.close();
  rows.clear(); $("monitor-rows").textContent = "";
  const pattern = $("monitor-pattern").value || "/**";
  monitor = new EventSource("/api/monitor?pattern=" + encodeURIComponent(pattern));
  $("monitor-state").textContent = "connecting…";
  monitor.onopen = () => { $("monitor-state").textContent = "live"; };
  monitor.onerror = () => { $("monitor-state").textContent = "reconnecting…"; };
  monitor.onmessage = (event) => {
    const e = JSON.parse(event.data);
    if (e.type === "error") { $("monitor-state").textContent = e.message; return; }
    let row = rows.get(e.address);
    if (!row) {
      row = document.createElement("tr"); row.dataset.address = e.address;
      for (let i = 0; i < 5; i++) row.appendChild(document.createElement("td"));
      row.children[0].className = "mono"; row.children[1].className = "mono value";
      row.children[0].textContent = e.address;
      row.onclick = () => { $("set-address").value = e.address; $("set-value").value = row.children[1].textContent; };
      rows.set(e.address, row);
      const sorted = [...rows.keys()].sort(); const index = sorted.indexOf(e.address);
      const body = $("monitor-rows"); body.insertBefore(row, body.children[index] || null);
    }
    row.children[1].textContent = text(e.value);
    if (e.revision !== undefined) row.children[2].textContent = e.revision;
    if (e.writer) row.children[3].textContent = e.writer;
    row.children[4].textContent = e.type;
    row.classList.add("flash"); setTimeout(() => row.classList.remove("flash"), 400);
  };
}

// Changes arrive without their writer; the param list has it.
async function loadWriters() {
  if (!rows.size) return;
  const answer = await api("GET", "/api/params?limit=500&pattern=" + encodeURIComponent($("monitor-pattern").value || "/**"));
  if (!answer.ok) return;
  for (const p of answer.data) {
    const row = rows.get(p.address);
    if (row && p.writer) row.children[3].textContent = p.writer;
  }
}

// The universes the lighting bridges use, from their options.
let dmxMonitor = null;
async function loadUniverses() {
  const answer = await api("GET", "/api/bridges");
  const universes = new Set();
  for (const b of answer.ok ? answer.data : []) {
    const o = b.options || {};
    if (typeof o.universe === "number") universes.add(o.universe);
    for (const list of [o.input_universes, o.output_universes]) for (const u of list || []) universes.add(u);
  }
  const select = $("dmx-universe"), chosen = Number(select.value) || undefined;
  select.textContent = "";
  const list = [...universes].sort((a, b) => a - b);
  if (!list.length) list.push(1);
  for (const u of list) { const o = document.createElement("option"); o.value = u; o.textContent = u; select.appendChild(o); }
  if (chosen !== undefined && list.includes(chosen)) select.value = chosen;
  showUniverse();
}

function showUniverse() {
  const universe = Number($("dmx-universe").value);
  const faders = $("dmx-faders"); faders.textContent = "";
  for (let channel = 1; channel <= 512; channel++) {
    const box = document.createElement("div"); box.className = "fader";
    const level = document.createElement("b"); level.textContent = "0";
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: 0, max: 255, value: 0, id: "fader-" + channel, title: "channel " + channel });
    let pending = null;
    input.oninput = () => {
      level.textContent = input.value;
      // At most one SET per fader in flight; the latest level wins.
      if (pending) { pending.next = Number(input.value); return; }
      const send = async (value) => {
        pending = { next: null };
        const answer = await api("PUT", "/api/params/dmx/" + universe + "/" + channel, { value });
        if (!answer.ok) $("dmx-state").textContent = answer.data.error;
        const next = pending.next; pending = null;
        if (next !== null && next !== value) send(next);
      };
      send(Number(input.value));
    };
    const label = document.createElement("span"); label.textContent = channel;
    box.append(level, input, label); faders.appendChild(box);
  }
  if (dmxMonitor) dmxMonitor.close();
  dmxMonitor = new EventSource("/api/monitor?pattern=" + encodeURIComponent("/dmx/" + universe + "/*"));
  dmxMonitor.onopen = () => { $("dmx-state").textContent = "live"; };
  dmxMonitor.onerror = () => { $("dmx-state").textContent = "reconnecting…"; };
  dmxMonitor.onmessage = (event) => {
    const e = JSON.parse(event.data);
    const channel = Number(e.address && e.address.split("/")[3]);
    const input = $("fader-" + channel);
    if (!input || typeof e.value !== "number") return;
    // A float level is a fraction of full (docs/bridges.md, "Levels"); JSON.parse turns 1.0 into 1.
    const isFloat = /"value":-?[0-9]+[.eE]/.test(event.data);
    const level = isFloat ? Math.round(e.value * 255) : e.value;
    if (document.activeElement !== input) input.value = level;
    input.previousSibling.textContent = level;
  };
}

function parseValue(raw) {
  try { return JSON.parse(raw); } catch (_) { return raw; }
}

async function loadTransports() {
  const answer = await api("GET", "/api/transports");
  const body = $("transport-rows"); body.textContent = "";
  for (const l of answer.data || []) {
    const row = document.createElement("tr");
    cell(row, l.name); cell(row, l.scheme); cell(row, l.address, "mono"); cell(row, l.port, "mono");
    body.appendChild(row);
  }
}

function fillKinds() {
  const select = $("bridge-kind"); select.textContent = "";
  for (const k of kinds) { const o = document.createElement("option"); o.value = k.name; o.textContent = k.name + " — " + k.summary; select.appendChild(o); }
  show("no-kinds", kinds.length === 0); show("bridge-form", kinds.length > 0);
  renderFields();
}

function renderFields(values) {
  const kind = kinds.find((k) => k.name === $("bridge-kind").value);
  const box = $("bridge-fields"); box.textContent = "";
  if (!kind) return;
  $("bridge-kind-help").textContent = kind.summary;
  for (const f of kind.fields) {
    const label = document.createElement("label"); label.htmlFor = "field-" + f.name;
    label.textContent = f.name + (f.required ? " (required)" : "");
    let input;
    const current = values && values[f.name] !== undefined ? values[f.name] : f.default;
    if (f.type === "bool") {
      input = document.createElement("input"); input.type = "checkbox"; input.checked = !!current;
    } else if (f.type === "choice") {
      input = document.createElement("select");
      for (const c of f.choices) { const o = document.createElement("option"); o.value = c; o.textContent = c; input.appendChild(o); }
      if (current !== undefined) input.value = current;
    } else {
      input = document.createElement("input");
      if (f.type === "integer" || f.type === "number") { input.type = "number"; input.step = f.type === "integer" ? "1" : "any"; input.min = f.min; input.max = f.max; }
      if (current !== undefined) input.value = Array.isArray(current) ? current.join(", ") : current;
      if (f.type.endsWith("_list")) input.placeholder = "comma-separated";
    }
    input.id = "field-" + f.name; input.dataset.field = f.name; input.dataset.type = f.type;
    const help = document.createElement("p"); help.className = "help";
    let range = f.min !== undefined ? " (" + f.min + "–" + f.max + ")" : "";
    help.textContent = f.help + range;
    const error = document.createElement("p"); error.className = "error"; error.dataset.error = f.name;
    box.append(label, input, help, error);
  }
}

function fieldValue(input) {
  const type = input.dataset.type, raw = input.value.trim();
  if (type === "bool") return input.checked;
  if (raw === "") return undefined;
  if (type === "integer") return Number.isInteger(Number(raw)) ? Number(raw) : raw;
  if (type === "number") return isNaN(Number(raw)) ? raw : Number(raw);
  if (type === "integer_list") return raw.split(",").map((s) => s.trim()).filter((s) => s).map((s) => isNaN(Number(s)) ? s : Number(s));
  if (type === "string_list") return raw.split(",").map((s) => s.trim()).filter((s) => s);
  return raw;
}

async function saveBridge(event) {
  event.preventDefault();
  document.querySelectorAll("#bridge-editor .error").forEach((e) => e.textContent = "");
  const options = {};
  document.querySelectorAll("#bridge-fields [data-field]").forEach((input) => { const v = fieldValue(input); if (v !== undefined) options[input.dataset.field] = v; });
  const id = editing || $("bridge-id").value.trim();
  const body = { id, kind: $("bridge-kind").value, enabled: $("bridge-enabled").checked, options };
  const answer = editing ? await api("PUT", "/api/bridges/" + encodeURIComponent(id), body) : await api("POST", "/api/bridges", body);
  if (!answer.ok) {
    $("bridge-error").textContent = answer.data.error || ("error " + answer.status);
    for (const p of problems(answer.data)) { const slot = document.querySelector('#bridge-editor [data-error="' + p.field + '"]'); if (slot) slot.textContent = p.reason; }
    return;
  }
  resetEditor();
  loadBridges();
}

function resetEditor() {
  editing = null; $("bridge-id").disabled = false; $("bridge-id").value = ""; $("bridge-kind").disabled = false;
  $("bridge-editor-title").textContent = "Add a bridge"; $("bridge-save").textContent = "Add bridge"; show("bridge-cancel", false);
  $("bridge-error").textContent = ""; renderFields();
}

function edit(bridge) {
  editing = bridge.id; $("bridge-id").value = bridge.id; $("bridge-id").disabled = true;
  $("bridge-kind").value = bridge.kind; $("bridge-kind").disabled = true; $("bridge-enabled").checked = bridge.enabled;
  renderFields(bridge.options);
  $("bridge-editor-title").textContent = "Edit bridge " + bridge.id; $("bridge-save").textContent = "Save and apply"; show("bridge-cancel", true);
}

async function loadBridges() {
  const answer = await api("GET", "/api/bridges");
  if (!answer.ok) return;
  const body = $("bridge-rows"); body.textContent = "";
  $("bridge-empty").textContent = answer.data.length ? "" : kinds.length ? "No bridges yet. Add one below." : "No bridges.";
  for (const b of answer.data) {
    const row = document.createElement("tr"); row.dataset.bridge = b.id;
    cell(row, b.id, "mono"); cell(row, b.kind);
    const state = b.state === "running" && b.health === "degraded" ? "degraded" : b.state;
    cell(row, state + (b.reason ? ": " + b.reason : ""), "state-" + state);
    cell(row, Object.entries(b.counters || {}).map(([k, v]) => k + " " + v).join(", "), "mono");
    const actions = cell(row, "");
    const button = (label, fn, cls) => { const x = document.createElement("button"); x.className = "plain " + (cls || ""); x.textContent = label; x.onclick = fn; actions.appendChild(x); actions.append(" "); };
    button(b.enabled ? "Disable" : "Enable", async () => { await api("PUT", "/api/bridges/" + encodeURIComponent(b.id), Object.assign({}, b, { enabled: !b.enabled })); loadBridges(); });
    button("Edit", () => edit(b));
    button("Remove", async () => { if (confirm("Remove bridge " + b.id + "?")) { await api("DELETE", "/api/bridges/" + encodeURIComponent(b.id)); loadBridges(); } }, "danger");
    body.appendChild(row);
  }
}

async function loadTokens() {
  const answer = await api("GET", "/api/tokens");
  const body = $("token-rows"); body.textContent = "";
  for (const t of answer.data || []) {
    const row = document.createElement("tr");
    cell(row, t.name); cell(row, t.id, "mono"); cell(row, new Date(t.created * 1000).toLocaleString());
    const td = cell(row, ""); const x = document.createElement("button"); x.className = "plain danger"; x.textContent = "Revoke";
    x.onclick = async () => { await api("DELETE", "/api/tokens/" + t.id); loadTokens(); }; td.appendChild(x);
    body.appendChild(row);
  }
}

async function loadLogs() {
  const answer = await api("GET", "/api/logs?lines=300");
  if (!answer.ok) return;
  const pre = $("logs"); const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20;
  pre.textContent = answer.data.join("\n");
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

$("setup-form").onsubmit = async (event) => {
  event.preventDefault();
  if ($("setup-password").value !== $("setup-confirm").value) { $("setup-error").textContent = "The two passwords differ."; return; }
  const answer = await api("POST", "/api/auth/setup", { password: $("setup-password").value });
  if (!answer.ok) { $("setup-error").textContent = answer.data.error; return; }
  $("setup-password").value = $("setup-confirm").value = "";
  await start();
};
$("login-form").onsubmit = async (event) => {
  event.preventDefault();
  const answer = await api("POST", "/api/auth/login", { password: $("login-password").value });
  if (!answer.ok) { $("login-error").textContent = answer.data.error; return; }
  $("login-password").value = ""; $("login-error").textContent = "";
  await start();
};
document.querySelectorAll("nav button").forEach((b) => b.onclick = () => open(b.dataset.page));
$("monitor-watch").onclick = watch;
$("monitor-pattern").onkeydown = (event) => { if (event.key === "Enter") watch(); };
$("set-form").onsubmit = async (event) => {
  event.preventDefault();
  const address = $("set-address").value.trim();
  const answer = await api("PUT", "/api/params" + address.split("/").map(encodeURIComponent).join("/"), { value: parseValue($("set-value").value) });
  $("set-result").textContent = answer.ok ? "Set " + address + "." : answer.data.error;
};
$("dmx-universe").onchange = showUniverse;
$("bridge-kind").onchange = () => renderFields();
$("bridge-form").onsubmit = saveBridge;
$("bridge-cancel").onclick = resetEditor;
$("password-form").onsubmit = async (event) => {
  event.preventDefault();
  const answer = await api("POST", "/api/auth/password", { current: $("password-current").value, new: $("password-new").value });
  $("password-result").textContent = answer.ok ? "Password changed. Other sessions were logged out." : answer.data.error;
  if (answer.ok) { $("password-current").value = $("password-new").value = ""; }
};
$("token-form").onsubmit = async (event) => {
  event.preventDefault();
  const answer = await api("POST", "/api/tokens", { name: $("token-name").value.trim() });
  $("token-result").textContent = answer.ok ? "Copy this token now, it is shown only once: " + answer.data.token : answer.data.error;
  $("token-name").value = ""; loadTokens();
};
$("logout").onclick = async () => { await api("POST", "/api/auth/logout"); csrf = ""; await start(); };
$("import-button").onclick = async () => {
  const file = $("import-file").files[0];
  if (!file) { $("import-result").textContent = "Choose a file first."; return; }
  const answer = await api("PUT", "/api/config", await file.text(), true);
  if (answer.ok) {
    const later = answer.data.restart_required;
    $("import-result").textContent = "Imported and saved." + (later.length ? " After a restart: " + later.join(", ") + "." : "");
  } else {
    $("import-result").textContent = answer.data.error;
  }
};
$("restart").onclick = async () => {
  if (!confirm("Restart the gateway? Clients reconnect after a few seconds.")) return;
  await api("POST", "/api/restart");
  $("restart-result").textContent = "Restarting…";
  setTimeout(() => location.reload(), 4000);
};
start();
</script>
</body>
</html>
"""#
}
