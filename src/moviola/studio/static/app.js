// moviola studio: the page. Plain JavaScript, no build step, nothing loaded from elsewhere.
// Forms are generated from GET /api/effects, so a new effect appears here with no change.
"use strict";

const state = {
  effects: {},        // name -> described effect
  formats: [],
  media: [],          // files from /api/media
  selected: null,     // media id
  probe: null,
  chain: [],          // [{name, card}]
  jobs: new Map(),    // id -> job
  mine: new Set(),    // jobs started from this page: their result opens when done
  openJob: null,
  editing: null,
  tab: "effects",
};

// What the other scripts (player.js, assets.js, presets.js) add: called when a clip is chosen
// (id, probe), when a job changes (job, before) and for a job's extra buttons (job -> [nodes]).
// showJob: whether a job is listed (job -> bool; a project shows its own).
const hooks = { select: [], job: [], actions: [], showJob: [], frame: [] };

const $ = (sel, root = document) => root.querySelector(sel);
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "style") Object.assign(node.style, v);  // CSSOM: allowed by the page's CSP
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// -- talking to the server ------------------------------------------------------------------
async function api(path, options = {}) {
  const opts = { ...options, headers: { ...(options.headers || {}) } };
  if (opts.json !== undefined) {
    opts.body = JSON.stringify(opts.json);
    opts.headers["Content-Type"] = "application/json";
    delete opts.json;
  }
  const response = await fetch(path, opts);
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const message = (data && data.error) || `${response.status} ${response.statusText}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return data;
}

function showBanner(message, kind = "error") {
  $("#banner-text").textContent = message;
  $("#banner").className = "banner" + (kind === "info" ? " info" : "");
  clearTimeout(showBanner.timer);
  if (kind === "info") showBanner.timer = setTimeout(hideBanner, 5000);
}
function hideBanner() { $("#banner").classList.add("hidden"); }

// -- formatting ----------------------------------------------------------------------------
function fmtBytes(n) {
  if (n == null) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
function fmtClock(s) {
  if (s == null || !isFinite(s)) return "";
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
  return (h ? `${h}:${String(m).padStart(2, "0")}` : `${m}`) + `:${String(sec).padStart(2, "0")}`;
}
function fmtRate(r) {
  if (!r) return "";
  const [a, b] = String(r).split("/").map(Number);
  const v = b ? a / b : a;
  return (Math.round(v * 1000) / 1000) + (b && b !== 1 ? ` (${r})` : "");
}
function mediaUrl(kind, id, extra = "") {
  return `/api/media/${kind}?id=${encodeURIComponent(id)}${extra}`;
}

// -- tabs ----------------------------------------------------------------------------------
function setTab(name) {
  state.tab = name;
  document.body.dataset.tab = name;
  document.querySelectorAll(".tab").forEach(t => t.classList.toggle("active", t.dataset.tab === name));
  $("#view-effects").classList.toggle("hidden", name !== "effects");
  $("#view-editing").classList.toggle("hidden", name !== "editing");
  if (name === "editing" && state.openJob) closeResult();
  if (name === "editing") loadEditing();
  saveState();
}

// -- health --------------------------------------------------------------------------------
async function loadHealth() {
  try {
    const h = await api("/api/health");
    state.health = h;
    showHealth();
    $("#health").className = "health ok";
    if (h.interrupted_at_start && h.interrupted_at_start.length && !loadHealth.told) {
      loadHealth.told = true;
      showBanner(`${h.interrupted_at_start.length} job(s) were interrupted when the studio last stopped: use “Run again”.`, "info");
    }
  } catch (e) {
    $("#health").textContent = e.status === 401 ? "token required" : "server unreachable";
    $("#health").className = "health bad";
    if (e.status === 401) showBanner("This studio needs its token: open the link it printed when it started (…/?token=…).");
  }
}

// -- media ---------------------------------------------------------------------------------
async function loadMedia() {
  const data = await api("/api/media");
  state.media = data.files;
  state.roots = data.roots;
  if (window.assets) await assets.refresh();
  refreshFilePickers();
}

// The list is the asset library (assets.js): thumbnails, sort, filter, lineage, delete.
function renderMedia() { if (window.assets) assets.render(); }

async function selectMedia(id) {
  state.selected = id;
  renderMedia();
  saveState();
  previewError("");
  $("#chain-input").textContent = "on " + id;
  $("#editing-input").textContent = "on " + id;
  const panel = $("#probe");
  panel.classList.remove("hidden");
  $("#probe-body").replaceChildren(el("p", { class: "muted", text: "reading…" }));
  const file = state.media.find(f => f.id === id);
  $("#probe-thumb").classList.toggle("hidden", !!(file && file.audio));
  if (!(file && file.audio)) $("#probe-thumb").src = mediaUrl("frame", id, "&t=0&w=480");
  try {
    const info = await api(mediaUrl("probe", id));
    if (state.selected !== id) return;
    state.probe = info;
    renderProbe(info);
    if (window.music) music.onSelect(info);
    for (const hook of hooks.select) hook(id, info);
  } catch (e) {
    $("#probe-body").replaceChildren(el("p", { class: "error", text: e.message }));
    if (window.music) music.onSelect(null);
    for (const hook of hooks.select) hook(id, null);
  }
  updateRunButtons();
}

function renderProbe(info) {
  const v = info.video[0] || {};
  const a = info.audio[0];
  const rows = [
    ["file", info.path.split("/").slice(1).join("/")],
    ["container", shortContainer(info)],
    ["size", fmtBytes(info.size_bytes)],
    ["duration", info.duration_seconds != null ? `${info.duration_seconds.toFixed(2)} s` : "unknown"],
    ["video", v.codec ? `${v.codec} ${v.width}×${v.height}${v.rotation ? `, rotated ${v.rotation}°` : ""}` : "none"],
    ["frame rate", v.rate ? fmtRate(v.rate) + (v.variable_rate ? ", variable" : "") : ""],
    ["frames", v.frames ?? (v.frames_estimated != null ? `≈ ${v.frames_estimated}` : "")],
    ["pixels", v.pix_fmt ? `${v.pix_fmt}, ${v.bit_depth} bit${v.has_alpha ? ", alpha" : ""}` : ""],
    ["color", [v.color_primaries, v.color_transfer, v.color_space, v.color_range].filter(Boolean).join(" / ")],
    ["audio", a ? `${a.codec} ${a.sample_rate} Hz, ${a.channels} ch` : "none"],
  ].filter(r => r[1] !== "" && r[1] != null);
  const dl = el("dl", { id: "probe-info" });
  for (const [k, val] of rows) dl.append(el("dt", { text: k }), el("dd", { text: String(val) }));
  $("#probe-body").replaceChildren(dl);
}

function shortContainer(info) {
  // FFmpeg names demuxers by families ("mov,mp4,m4a,3gp,3g2,mj2"): show the member that fits.
  const names = String(info.container || "").split(",");
  const ext = info.path.split(".").pop().toLowerCase();
  return names.includes(ext) ? ext : names[0];
}

function upload(file) {
  if (!file) return;
  const bar = $("#upload-progress");
  const fill = $("#upload-progress .bar > span");
  $(".drop-text").classList.add("hidden");
  bar.classList.remove("hidden");
  $(".upload-label").textContent = `uploading ${file.name}…`;
  fill.style.width = "0";
  const xhr = new XMLHttpRequest();
  const project = window.projects ? projects.current() : "";
  xhr.open("POST", "/api/upload?name=" + encodeURIComponent(file.name) + (project ? "&project=" + encodeURIComponent(project) : ""));
  xhr.upload.onprogress = e => { if (e.lengthComputable) fill.style.width = (100 * e.loaded / e.total) + "%"; };
  xhr.onload = async () => {
    $(".drop-text").classList.remove("hidden");
    bar.classList.add("hidden");
    $("#upload-input").value = "";
    let data = {};
    try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
    if (xhr.status !== 201) { showBanner(data.error || `upload failed (${xhr.status})`); return; }
    showBanner(`uploaded ${data.name}`, "info");
    await loadMedia();
    selectMedia(data.id);
  };
  xhr.onerror = () => {
    $(".drop-text").classList.remove("hidden");
    bar.classList.add("hidden");
    showBanner("upload failed: the server did not answer");
  };
  xhr.send(file);
}

// -- effects and their forms ---------------------------------------------------------------
async function loadEffects() {
  const data = await api("/api/effects");
  state.formats = data.formats;
  const select = $("#effect-select");
  select.replaceChildren();
  const groups = { classical: el("optgroup", { label: "classical" }), model: el("optgroup", { label: "models" }) };
  for (const e of data.effects) {
    state.effects[e.name] = e;
    (groups[e.kind] || groups.classical).append(el("option", { value: e.name, text: e.name }));
  }
  for (const g of Object.values(groups)) if (g.children.length) select.append(g);
  if (state.effects.resize) select.value = "resize";
  describeSelected();
  const fmt = $("#out-format");
  fmt.replaceChildren(...state.formats.map(f => el("option", { value: f, text: "." + f })));
}

function describeSelected() {
  const e = state.effects[$("#effect-select").value];
  $("#effect-summary").textContent = e ? e.summary : "";
}

// (the effect forms, the chain and starting a job: forms.js)

// -- jobs ----------------------------------------------------------------------------------
async function loadJobs() {
  const data = await api("/api/jobs");
  state.jobs.clear();
  for (const j of data.jobs.reverse()) state.jobs.set(j.id, j);
  renderJobs();
}

function upsertJob(job) {
  const before = state.jobs.get(job.id);
  state.jobs.set(job.id, job);
  renderJobs();
  if (job.kind === "score" && window.music) music.onJob(job);  // the music panel follows its jobs
  for (const hook of hooks.job) hook(job, before);
  if (job.status === "done" && (!before || before.status !== "done") && state.mine.has(job.id)) {
    state.mine.delete(job.id);
    if (job.kind === "effects") openResult(job.id);
    else if (job.kind === "shots") openShots(job.id);
  }
}

function jobStats(job) {
  const p = job.progress || {};
  const parts = [];
  if (job.status === "queued") return "waiting for a worker";
  if (job.status === "running" && p.phase_text) return `${p.phase_text}…`;
  if (job.status === "running" && p.passes > 1) parts.push(`pass ${p.pass} of ${p.passes}: ${p.pass_text}`);
  if (job.status === "running" && p.frames == null && p.seconds == null) return "starting…";
  if (p.frames != null) parts.push(`${p.frames}${p.total ? "/" + p.total : ""} frames`);
  if (p.seconds != null && job.status === "running") parts.push(`${p.seconds.toFixed(0)}${p.total_seconds ? "/" + p.total_seconds.toFixed(0) : ""} s heard`);
  if (p.fps) parts.push(`${p.fps.toFixed(1)} fps`);
  if (job.status === "running" && p.eta != null) parts.push(`ETA ${fmtClock(p.eta)}`);
  if (job.status === "done" && job.result && job.kind === "score" && window.music) return music.stats(job.result);
  if (job.status === "done" && job.result) {
    const r = job.result;
    if (r.width) parts.push(`${r.width}×${r.height}`);
    if (r.size_bytes) parts.push(fmtBytes(r.size_bytes));
    if (r.seconds != null) parts.push(`${r.seconds.toFixed(1)} s`);
    if (r.shots != null) parts.push(`${r.shots} shots`);
    if (r.words != null) parts.push(`${r.words} words${r.language ? ` (${r.language})` : ""}`);
  }
  return parts.join(" · ");
}

// A bar that never goes back within a pass (a job of several passes restarts it per pass).
const barSeen = new Map();  // job id -> {pass, fraction}
function barFraction(job) {
  const p = job.progress || {};
  const pass = p.pass || 1;
  const seen = barSeen.get(job.id);
  const fraction = Math.max(p.fraction ?? 0, seen && seen.pass === pass && job.status === "running" ? seen.fraction : 0);
  barSeen.set(job.id, { pass, fraction });
  return fraction;
}

// A job's chain and its settings: each effect with the values it was given.
const settingsOpen = new Set();
function jobSettings(job) {
  const spec = job.spec || {};
  const rows = (spec.effects || []).map(e => {
    const values = Object.entries(e.params || {}).map(([k, v]) => `${k.replaceAll("_", " ")} ${Array.isArray(v) ? v.join(", ") : v}`);
    return el("li", {}, el("b", { text: e.name }), values.length ? ": " + values.join(" · ") : " (its defaults)");
  });
  if (spec.preview) rows.push(el("li", { class: "muted", text: `preview from ${spec.preview.start} s to ${spec.preview.end} s` }));
  rows.push(el("li", { class: "muted", text: [`output .${spec.format || "mp4"}`, spec.crf != null ? `quality (CRF) ${spec.crf}` : null, spec.audio === false ? "no audio" : null].filter(Boolean).join(" · ") }));
  const box = el("details", { class: "settings", open: settingsOpen.has(job.id) }, el("summary", { text: "settings" }), el("ul", {}, ...rows));
  box.addEventListener("toggle", () => (box.open ? settingsOpen.add(job.id) : settingsOpen.delete(job.id)));
  return box;
}

function showHealth() {
  const h = state.health;
  if (!h) return;
  const running = [...state.jobs.values()].filter(j => j.status === "running").length;
  $("#health").textContent = `v${h.version} · ${h.effects} effects · ${running} running`;
}

function renderJobs() {
  showHealth();
  const list = $("#jobs");
  const jobs = [...state.jobs.values()].filter(j => hooks.showJob.every(f => f(j))).sort((a, b) => b.created - a.created);
  list.replaceChildren(...jobs.map(job => {
    const p = job.progress || {};
    const frac = job.status === "done" ? 1 : barFraction(job);
    const bar = el("span", { class: "bar" + (job.status === "running" && p.fraction == null ? " indeterminate" : "") }, el("span", { style: { width: `${(frac * 100).toFixed(1)}%` } }));
    const actions = el("div", { class: "actions" });
    if (job.status === "running" || job.status === "queued")
      actions.append(el("button", { class: "small", "data-action": "cancel", onclick: () => jobAction(job.id, "cancel"), text: "Cancel" }));
    if (["failed", "cancelled", "interrupted", "done"].includes(job.status))
      actions.append(el("button", { class: "small", "data-action": "retry", onclick: () => { state.mine.add(job.id); jobAction(job.id, "retry"); }, text: job.status === "interrupted" ? "Resume (run again)" : "Run again" }));
    if (job.kind === "effects" && job.status !== "running" && job.status !== "queued")
      actions.append(el("button", { class: "small", "data-action": "edit", onclick: () => editJob(job), text: "Edit and run again" }));
    if (job.status === "done" && job.kind === "effects") {
      actions.append(el("button", { class: "small", "data-action": "open", onclick: () => openResult(job.id), text: "Compare" }));
      actions.append(el("a", { class: "button small", "data-action": "download", href: `/api/jobs/${job.id}/result`, download: job.result ? job.result.output : "", text: "Download" }));
    }
    if (job.status === "done" && job.kind === "transcript")
      for (const f of ["srt", "vtt", "json"])
        actions.append(el("a", { class: "button small", "data-action": `transcript-${f}`, href: `/api/jobs/${job.id}/transcript?format=${f}`, download: "", text: f.toUpperCase() }));
    if (job.status === "done" && job.kind === "score" && window.music) actions.append(...music.jobActions(job));
    if (job.status === "done" && job.kind === "shots")
      actions.append(el("button", { class: "small", "data-action": "open", onclick: () => { setTab("editing"); openShots(job.id); }, text: "Show shots" }));
    for (const hook of hooks.actions) actions.append(...hook(job));
    if (job.status !== "running")
      actions.append(el("button", { class: "small", "data-action": "delete", onclick: () => deleteJob(job.id), text: "Delete" }));
    return el("li", { class: `job ${job.status}${state.openJob === job.id ? " active" : ""}`, dataset: { id: job.id, status: job.status } },
      el("div", { class: "line1" }, el("span", { class: "jtitle", text: job.title }), el("span", { class: `status ${job.status}`, text: job.status })),
      bar,
      el("div", { class: "stats", text: jobStats(job) }),
      job.error && job.status !== "done" ? el("div", { class: "error", text: job.error }) : null,
      job.kind === "effects" ? jobSettings(job) : null,
      actions);
  }));
}

async function jobAction(id, action) {
  try { upsertJob(await api(`/api/jobs/${id}/${action}`, { method: "POST" })); }
  catch (e) { showBanner(e.message); }
}
async function deleteJob(id) {
  try {
    await api(`/api/jobs/${id}`, { method: "DELETE" });
    state.jobs.delete(id);
    if (state.openJob === id) closeResult();
    renderJobs();
  } catch (e) { showBanner(e.message); }
}

function listen() {
  if (!window.EventSource) { setInterval(loadJobs, 2000); return; }
  const source = new EventSource("/api/events");
  source.addEventListener("job", ev => upsertJob(JSON.parse(ev.data)));
  source.onerror = () => { /* the browser reconnects by itself; refresh the list meanwhile */ loadJobs().catch(() => {}); };
}

// -- result: before / after ----------------------------------------------------------------
function openResult(id) {
  const job = state.jobs.get(id);
  if (!job || !job.result) return;
  state.openJob = id;
  renderJobs();
  const r = job.result;
  $("#result").classList.remove("hidden");
  $("#result-title").textContent = job.title;
  $("#result-download").href = `/api/jobs/${id}/result`;
  $("#result-download").setAttribute("download", r.output);
  $("#result-info").textContent = [r.output, r.width ? `${r.width}×${r.height}` : null, r.rate ? `${fmtRate(r.rate)} fps` : null,
    `${r.frames_out} frames`, r.duration ? `${r.duration.toFixed(2)} s` : null, fmtBytes(r.size_bytes), `audio ${r.audio}`,
    `${r.seconds.toFixed(1)} s at ${r.fps.toFixed(1)} fps`].filter(Boolean).join(" · ");
  // As large as the page allows, never taller than most of the window.
  const aspect = (r.width && r.height) ? r.width / r.height : 16 / 9;
  $("#compare").style.maxWidth = `${Math.round(Math.min(1100, window.innerHeight * 0.68 * aspect))}px`;
  const time = $("#cmp-time");
  time.max = Math.max(0.01, (r.duration || 0.04) - 0.01);
  time.value = Math.min(Number(time.max), (r.duration || 0) / 2).toFixed(2);
  if (state.playing) setPlayMode(false);
  const playable = canPlay(r.output) && canPlay(job.spec.input || "");
  $("#cmp-play").disabled = !playable;
  $("#cmp-play-note").textContent = playable ? "" : "(playing needs formats the browser decodes: the comparison shows stills)";
  loadCompareFrames();
  $("#result").scrollIntoView({ behavior: "smooth", block: "start" });
}

function loadCompareFrames() {
  const id = state.openJob;
  if (!id) return;
  const t = Number($("#cmp-time").value);
  $("#cmp-time-label").textContent = `${t.toFixed(2)} s`;
  const w = Math.min(1600, Math.round(($("#compare").clientWidth || 960) * (window.devicePixelRatio || 1)));
  $("#cmp-after").src = `/api/jobs/${id}/frame?side=after&t=${t}&w=${w}`;
  $("#cmp-before").src = `/api/jobs/${id}/frame?side=before&t=${t}&w=${w}`;
}

// Playing: the result drives, the input follows it along the run's timeline (source time =
// start + output time x speed). Only where the browser can decode the input's format.
const PLAYABLE = { mp4: "video/mp4", m4v: "video/mp4", mov: "video/mp4", webm: "video/webm", ogv: "video/ogg" };
function canPlay(name) {
  const type = PLAYABLE[String(name).split(".").pop().toLowerCase()];
  return !!type && document.createElement("video").canPlayType(type) !== "";
}

function setPlayMode(on) {
  const job = state.jobs.get(state.openJob);
  const after = $("#vid-after"), before = $("#vid-before");
  state.playing = on;
  $("#cmp-play").textContent = on ? "■ Stills" : "▶ Play";
  for (const id of ["#cmp-after", "#cmp-before"]) $(id).classList.toggle("hidden", on);
  after.classList.toggle("hidden", !on);
  before.classList.toggle("hidden", !on);
  if (!on || !job) {
    after.pause(); before.pause();
    after.removeAttribute("src"); before.removeAttribute("src");
    after.load(); before.load();
    loadCompareFrames();
    return;
  }
  after.src = `/api/jobs/${job.id}/result?inline=1`;
  before.src = mediaUrl("file", job.spec.input);
  after.currentTime = Number($("#cmp-time").value);
  after.play().catch(() => {});
}

function followAfter() {
  const job = state.jobs.get(state.openJob);
  if (!state.playing || !job || !job.result) return;
  const after = $("#vid-after"), before = $("#vid-before");
  const tl = job.result.timeline || { start: 0, speed: 1 };
  const want = tl.start + after.currentTime * tl.speed;
  before.playbackRate = tl.speed;
  if (Math.abs(before.currentTime - want) > 0.08) before.currentTime = want;
  if (after.paused !== before.paused) after.paused ? before.pause() : before.play().catch(() => {});
  $("#cmp-time").value = after.currentTime.toFixed(2);
  $("#cmp-time-label").textContent = `${after.currentTime.toFixed(2)} s`;
  if (!after.paused) requestAnimationFrame(followAfter);
}

function setSplit(percent) {
  percent = Math.max(0, Math.min(100, percent));
  $("#cmp-split").value = percent;
  $("#cmp-before-wrap").style.clipPath = `inset(0 ${100 - percent}% 0 0)`;
  $("#cmp-divider").style.left = `${percent}%`;
}

function closeResult() {
  if (state.playing) setPlayMode(false);
  state.openJob = null;
  $("#result").classList.add("hidden");
  renderJobs();
}

// (the editing view: editing.js)

// -- wiring --------------------------------------------------------------------------------
function wire() {
  document.querySelectorAll(".tab").forEach(t => t.addEventListener("click", () => setTab(t.dataset.tab)));
  $("#banner-close").addEventListener("click", hideBanner);
  $("#upload-input").addEventListener("change", e => upload(e.target.files[0]));
  const drop = $("#drop");
  drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); upload(e.dataTransfer.files[0]); });
  $("#media-refresh").addEventListener("click", () => loadMedia().catch(e => showBanner(e.message)));
  $("#effect-select").addEventListener("change", describeSelected);
  $("#effect-add").addEventListener("click", () => addEffectCard($("#effect-select").value));
  $("#run-full").addEventListener("click", () => startJob(false));
  $("#run-preview").addEventListener("click", () => startJob(true));
  $("#result-close").addEventListener("click", closeResult);
  $("#cmp-split").addEventListener("input", e => setSplit(Number(e.target.value)));
  let timer = null;
  $("#cmp-play").addEventListener("click", () => setPlayMode(!state.playing));
  for (const ev of ["play", "pause", "seeked", "timeupdate"]) $("#vid-after").addEventListener(ev, followAfter);
  $("#vid-before").addEventListener("loadedmetadata", followAfter);  // a slow input catches up
  $("#vid-after").addEventListener("click", () => { const v = $("#vid-after"); v.paused ? v.play() : v.pause(); });
  $("#cmp-time").addEventListener("input", () => {
    if (state.playing) { $("#vid-after").currentTime = Number($("#cmp-time").value); return; }
    $("#cmp-time-label").textContent = `${Number($("#cmp-time").value).toFixed(2)} s`;
    clearTimeout(timer);
    timer = setTimeout(loadCompareFrames, 120);
  });
  const compare = $("#compare");
  let dragging = false;
  const follow = e => {
    const rect = compare.getBoundingClientRect();
    setSplit(100 * (e.clientX - rect.left) / rect.width);
  };
  compare.addEventListener("pointerdown", e => { dragging = true; compare.setPointerCapture(e.pointerId); follow(e); });
  compare.addEventListener("pointermove", e => { if (dragging) follow(e); });
  compare.addEventListener("pointerup", () => { dragging = false; });
  $("#shots-run").addEventListener("click", runShots);
  $("#transcribe-run").addEventListener("click", runTranscribe);
  $("#search-run").addEventListener("click", runSearch);
  $("#search-query").addEventListener("keydown", e => { if (e.key === "Enter") runSearch(); });
  wireForms();
  setSplit(50);
  updateRunButtons();
}

async function start() {
  wire();
  await loadHealth();
  try {
    if (window.projects) await projects.restore();  // the library and job list follow it
    await Promise.all([loadEffects(), loadMedia(), loadJobs()]);
    await restoreState();
  } catch (e) {
    showBanner(e.message);
    return;
  }
  listen();
  setInterval(loadHealth, 10000);
  document.body.dataset.ready = "1";
}

// Once every script has run (music.js, player.js, assets.js... add to the page): a slow script
// download must not let the page start without them.
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
