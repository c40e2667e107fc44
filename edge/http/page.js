// The camera page: polls /api/state five times a second while visible, fetches a frame
// only when a new one is named, and draws the face boxes over it. The token travels in
// the Authorization header only; it is read once from the URL fragment (#token=...),
// which browsers never send to the server, and kept in this tab's sessionStorage.
"use strict";
const POLL_MS = 200;
const $ = (id) => document.getElementById(id);
let token = null;
let shown = null;  // id of the result whose frame is on screen
let timer = null;

function readToken() {
  const match = location.hash.match(/token=([^&]+)/);
  if (match) {
    sessionStorage.setItem("emotion-edge-token", decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname);  // out of the address bar
  }
  token = sessionStorage.getItem("emotion-edge-token");
}

async function get(path) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const answer = await fetch(path, { headers, cache: "no-store" });
  if (answer.status === 401) { askToken(); throw new Error("token refused"); }
  return answer;
}

function askToken() {
  stop();
  $("main").hidden = true;
  $("login").hidden = false;
}

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (cls) el.className = cls;
  return el;
}

function renderStatus(state) {
  const s = state.status;
  const rows = [
    ["Health", s.problem ? s.problem : "ok", s.problem ? "bad" : "ok"],
    ["Broker", (s.connected ? "connected" : "NOT connected") + " to " + s.broker,
      s.connected ? "" : "bad"],
    ["Paused", s.paused ? "yes" : "no", s.paused ? "bad" : ""],
    ["Spool", String(s.spool_depth)],
    ["Queue", String(s.queue_depth)],
    ["Captures", String(s.captures)],
    ["Frame rate", state.fps.toFixed(1) + " /s"],
    ["Model", state.model],
    ["Detector", state.detector],
  ];
  const dl = $("status");
  dl.replaceChildren(...rows.flatMap(([k, v, cls]) => [text("dt", k), text("dd", v, cls)]));
}

function renderResults(results) {
  const body = $("results").tBodies[0];
  body.replaceChildren(...results.map((r) => {
    const tr = document.createElement("tr");
    const what = r.error ? r.error.kind + " error" :
      (r.emotion ? r.emotion + " " + Math.round(r.confidence * 100) + "%" : "no face");
    for (const v of [r.timestamp.slice(11, 19), r.trigger, what, String(r.faces),
                     r.total_ms === undefined || r.total_ms === null ? "" : r.total_ms.toFixed(0)]) {
      tr.append(text("td", v, r.error ? "bad" : ""));
    }
    return tr;
  }));
}

function drawBoxes(frame, img) {
  const w = img.naturalWidth, h = img.naturalHeight;
  $("boxes").replaceChildren(...frame.faces.map((f) => {
    const [x, y, bw, bh] = f.box;
    const div = document.createElement("div");
    div.className = "box";
    Object.assign(div.style, { left: 100 * x / w + "%", top: 100 * y / h + "%",
                               width: 100 * bw / w + "%", height: 100 * bh / h + "%" });
    const track = f.track_id === null || f.track_id === undefined ? "" : "#" + f.track_id + " ";
    div.append(text("span", track + f.emotion + " " + Math.round(f.confidence * 100) + "%"));
    return div;
  }));
  $("caption").textContent = frame.timestamp + " UTC, " + frame.faces.length + " face(s)";
}

async function showFrame(frame) {
  const answer = await get("/frame.jpg?id=" + encodeURIComponent(frame.id));
  if (!answer.ok) return;  // replaced meanwhile: the next poll names the newer one
  const img = $("frame");
  const url = URL.createObjectURL(await answer.blob());
  await new Promise((done) => { img.onload = done; img.onerror = done; img.src = url; });
  if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
  img.dataset.url = url;
  shown = frame.id;
  drawBoxes(frame, img);
}

async function poll() {
  try {
    const answer = await get("/api/state?frames=1");
    const state = await answer.json();
    $("login").hidden = true;
    $("main").hidden = false;
    $("error").hidden = true;
    $("device").textContent = state.device;
    renderStatus(state);
    renderResults(state.results);
    if (state.frame && state.frame.id !== shown) await showFrame(state.frame);
  } catch (e) {
    if ($("login").hidden) { $("error").textContent = "No answer from the device: " + e.message; $("error").hidden = false; }
  }
  if (timer !== null) timer = setTimeout(poll, POLL_MS);
}

function start() { if (timer === null && !document.hidden) { timer = 0; poll(); } }
function stop() { if (timer) clearTimeout(timer); timer = null; }

document.addEventListener("visibilitychange", () => (document.hidden ? stop() : start()));
$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("emotion-edge-token", $("token").value);
  token = $("token").value;
  $("login").hidden = true;
  start();
});
readToken();
start();
