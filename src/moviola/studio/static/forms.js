// moviola studio: the effect forms, the chain, what the page remembers across reloads, and
// starting a job. Built from each effect's declarations (GET /api/effects): plain labels, the
// help text, sliders for bounded numbers, file pickers over the footage for file values, one
// plain message per field next to it. Loaded before app.js; uses its state, $ and el.
"use strict";

const RATE_SUGGESTIONS = ["23.976", "24", "25", "29.97", "30", "48", "50", "59.94", "60", "120"];
const COLOR_NAMES = { black: "#000000", white: "#ffffff", green: "#00b140", blue: "#0047bb", gray: "#808080", grey: "#808080", red: "#ff0000" };
// What a text field of each type takes, in words (shown when a value does not fit).
const TYPE_WORDS = {
  rate: "a frame rate, such as 25, 29.97 or 30000/1001",
  fraction: "a number or a fraction, such as 2, 0.5 or 1/3",
  time: "a time: seconds, or HH:MM:SS.mmm",
};
// Chromium compiles pattern with the v flag: "/" inside a class must be escaped there.
const PATTERNS = {
  rate: "\\s*([0-9]+([.\\/][0-9]+)?|ntsc|pal|film|ntsc-film)\\s*",
  fraction: "\\s*-?[0-9]*\\.?[0-9]+(\\/[0-9]+)?\\s*",
  time: "\\s*[0-9:.]+\\s*",
};
const NUMBER_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function label(name) { return String(name).replaceAll("_", " "); }
// The command line's words made the form's: "--face PHOTO" is the field "face".
function plainWords(text) {
  return String(text).replace(/--([a-z][a-z0-9-]*)(?: [A-Z][A-Z_]*)?/g, (_, n) => label(n.replaceAll("-", "_")));
}

// A file picker for what the declaration says is a file (its type, or its kind: see
// moviola/pipeline/params.py): "path" values are chosen from the footage (clips, photos,
// sounds); "path-or-keyword" may also be a word (a colour, auto...), typed or picked.
function isFileOnly(p) { return p.type === "path" || p.kind === "path"; }
function isPathLike(p) { return isFileOnly(p) || p.kind === "path-or-keyword"; }

function mediaDatalist() {
  let list = $("#media-ids");
  if (!list) { list = el("datalist", { id: "media-ids" }); document.body.append(list); }
  list.replaceChildren(...state.media.map(f => el("option", { value: f.id, label: f.name })));
  return "media-ids";
}

function mediaKind(f) { return f.audio ? "sounds" : f.image ? "photos" : "clips"; }

function fillFilePicker(sel) {
  const keep = sel.value;
  const none = sel.dataset.none;
  sel.replaceChildren(el("option", { value: "", text: none }));
  for (const kind of ["photos", "clips", "sounds"]) {
    const files = state.media.filter(f => mediaKind(f) === kind);
    if (files.length) sel.append(el("optgroup", { label: kind }, ...files.map(f => el("option", { value: f.id, text: f.name, title: f.id }))));
  }
  setPicked(sel, keep);
}
function setPicked(sel, value) {
  if (value && ![...sel.options].some(o => o.value === value)) sel.append(el("option", { value, text: value }));
  sel.value = value || "";
}
function refreshFilePickers() {
  mediaDatalist();
  document.querySelectorAll("select.file-pick").forEach(fillFilePicker);
}

// The message for a number typed into a numeric field, or "" when it fits.
function numberProblem(p, text) {
  if (text === "") return "";
  if (!NUMBER_TEXT.test(text) || !isFinite(Number(text))) return `not a number: type digits, such as ${p.type === "int" ? "4" : "0.5"}`;
  const n = Number(text);
  if (p.type === "int" && !Number.isInteger(n)) return "a whole number, please";
  if (p.min != null && n < p.min) return `at least ${p.min}`;
  if (p.max != null && n > p.max) return `at most ${p.max}`;
  return "";
}

// One input for one value of a parameter: {node, read(), write(value), check(), input}. read()
// gives the value to send (undefined: leave the default); check() the problem in words, or "".
function paramInput(effect, p, id) {
  const def = p.default;
  const base = { id, name: p.name, "data-param": p.name, "aria-label": `${effect.name} ${label(p.name)}` };
  const none = () => "";
  if (p.type === "bool") {
    const box = el("input", { ...base, type: "checkbox", checked: def === true });
    return { node: el("label", { class: "check" }, box, el("span", { text: def === true ? "on (default)" : "off (default)" })),
      read: () => (box.checked === (def === true) ? undefined : box.checked),
      write: v => { box.checked = v === true || v === "true"; }, check: none, input: box };
  }
  if (p.choices) {
    const sel = el("select", base);
    const notes = p.choice_notes || {};
    if (def == null) sel.append(el("option", { value: "", text: "(default)" }));
    const usable = p.choices.filter(c => !notes[c]), missing = p.choices.filter(c => notes[c]);
    for (const c of usable) sel.append(el("option", { value: c, text: c + (c === def ? " (default)" : "") }));
    if (missing.length)
      sel.append(el("optgroup", { label: "not installed" }, ...missing.map(c => el("option", { value: c, text: `${c}: ${notes[c]}` }))));
    if (def != null) sel.value = String(def);
    return { node: sel, read: () => (sel.value === "" || sel.value === String(def) ? undefined : sel.value),
      write: v => { sel.value = String(v); }, check: none, input: sel };
  }
  if (p.type === "color") {
    const start = COLOR_NAMES[String(def).toLowerCase()] || (def && /^#?[0-9a-f]{6}$/i.test(def) ? "#" + def.replace("#", "") : "#000000");
    const pick = el("input", { ...base, type: "color", value: start });
    const text = el("input", { type: "text", value: start, size: 8, "aria-label": `${label(p.name)} hex` });
    pick.addEventListener("input", () => { text.value = pick.value; });
    text.addEventListener("change", () => { if (/^#[0-9a-f]{6}$/i.test(text.value)) pick.value = text.value; });
    return { node: el("span", { class: "inline" }, pick, text),
      read: () => (text.value.toLowerCase() === start.toLowerCase() ? undefined : text.value),
      write: v => { text.value = String(v); if (/^#[0-9a-f]{6}$/i.test(text.value)) pick.value = text.value; },
      check: () => (/^#[0-9a-f]{6}$/i.test(text.value) || COLOR_NAMES[text.value.toLowerCase()] ? "" : "a colour: #RRGGBB"), input: pick };
  }
  if (p.type === "int" || p.type === "float") {
    const input = el("input", { ...base, type: "text", inputmode: p.type === "int" ? "numeric" : "decimal", class: "num",
      placeholder: def != null ? String(def) : "auto", autocomplete: "off" });
    const check = () => numberProblem(p, input.value.trim());
    const one = { read: () => (input.value.trim() === "" ? undefined : Number(input.value.trim())),
      write: v => { input.value = v == null ? "" : String(v); syncSlider(); }, check, input };
    let syncSlider = () => {};
    if (p.min != null && p.max != null && isFinite(p.min) && isFinite(p.max) && p.max > p.min
        && (p.type === "float" || p.max - p.min <= 10000)) {
      // A slider for a bounded range; the box beside it shows its value, live.
      const step = p.type === "int" ? 1 : (p.max - p.min) / 200;
      const slider = el("input", { type: "range", min: p.min, max: p.max, step, class: "slider",
        "aria-label": `${effect.name} ${label(p.name)} slider`, "data-slider": p.name });
      syncSlider = () => {
        const t = input.value.trim();
        slider.value = t !== "" && !check() ? t : String(def ?? p.min);
        slider.classList.toggle("unset", t === "");
      };
      slider.addEventListener("input", () => {
        const n = Number(slider.value);
        input.value = String(p.type === "int" ? Math.round(n) : Math.round(n * 1000) / 1000);
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
      input.addEventListener("input", () => syncSlider());
      syncSlider();
      return { ...one, node: el("span", { class: "inline slider-row" }, slider, input) };
    }
    return { ...one, node: input };
  }
  if (p.kind === "keyframes") return keyframeInput(effect, p, id, base);
  if (isFileOnly(p)) {
    const sel = el("select", { ...base, class: "file-pick", "data-none": def != null ? `(default: ${def})` : "(none: choose a file)" });
    fillFilePicker(sel);
    return { node: sel, read: () => sel.value || undefined, write: v => setPicked(sel, String(v ?? "")), check: none, input: sel };
  }
  const attrs = { ...base, type: "text", placeholder: def != null ? String(def) : "", autocomplete: "off" };
  if (PATTERNS[p.type]) attrs.pattern = PATTERNS[p.type];
  if (p.type === "rate") {
    attrs.list = "rate-suggestions";
    attrs.placeholder = def != null ? String(def) : "e.g. 25, 30000/1001, 59.94";
  } else if (p.type === "fraction") {
    if (def == null) attrs.placeholder = "e.g. 2, 0.5, 1/3";
  } else if (p.type === "time") {
    if (def == null) attrs.placeholder = "seconds or HH:MM:SS.mmm";
  } else if (isPathLike(p)) {
    attrs.list = mediaDatalist();
    attrs.placeholder = def != null ? String(def) : "a word, or pick a file";
  }
  const input = el("input", attrs);
  return { node: input, read: () => (input.value.trim() === "" ? undefined : input.value.trim()),
    write: v => { input.value = v == null ? "" : String(v); },
    check: () => (input.checkValidity() ? "" : (TYPE_WORDS[p.type] ? `not ${TYPE_WORDS[p.type]}` : input.validationMessage)), input };
}

// A keyframe (FRAME=IMAGE): where in the clip (a frame number, or a time like 2.5s), that
// frame of the chosen clip to see (and download, to paint over), and the painted image picked
// from the footage.
function keyframeSeconds(where) {
  const text = String(where).trim();
  if (!text) return null;
  if (/^\d*\.?\d+s$/.test(text)) return Number(text.slice(0, -1));
  if (!/^\d+$/.test(text)) { const t = parseClock(text); return Number.isNaN(t) ? null : t; }
  const v = state.probe && state.probe.video && state.probe.video[0];
  const [a, b] = String((v && v.rate) || "25").split("/").map(Number);
  return Number(text) / (b ? a / b : a);
}
function keyframeInput(effect, p, id, base) {
  const where = el("input", { id, type: "text", class: "kf-where", placeholder: "frame, or 2.5s", autocomplete: "off",
    "aria-label": `${effect.name} ${label(p.name)} frame`, "data-keyframe-where": p.name });
  const image = el("select", { ...base, id: `${id}-image`, class: "file-pick", "data-none": "(the painted frame: choose)" });
  fillFilePicker(image);
  const thumb = el("img", { class: "kf-thumb hidden", alt: "that frame of the clip" });
  const grab = el("a", { class: "button small hidden", download: "", text: "this frame, to paint" });
  const show = () => {
    const t = keyframeSeconds(where.value);
    const ok = t != null && state.selected;
    thumb.classList.toggle("hidden", !ok);
    grab.classList.toggle("hidden", !ok);
    if (!ok) return;
    thumb.src = mediaUrl("frame", state.selected, `&t=${t.toFixed(3)}&w=160`);
    grab.href = mediaUrl("frame", state.selected, `&t=${t.toFixed(3)}&w=4096`);
  };
  where.addEventListener("change", show);
  return {
    node: el("div", { class: "keyframe" }, el("span", { class: "inline" }, where, el("span", { text: "=" }), image), el("span", { class: "inline" }, thumb, grab)),
    read: () => (where.value.trim() && image.value ? `${where.value.trim()}=${image.value}` : undefined),
    write: v => {
      const [w, ...rest] = String(v ?? "").split("=");
      where.value = rest.length ? w : "";
      setPicked(image, rest.length ? rest.join("=") : w);
      show();
    },
    check: () => {
      const w = where.value.trim();
      if (!w && !image.value) return "";
      if (!w) return "which frame: a frame number, or a time like 2.5s";
      if (keyframeSeconds(w) == null) return "the frame is a number, or a time like 2.5s";
      if (!image.value) return "choose the painted image for that frame";
      return "";
    },
    input: image,
  };
}

let cardCounter = 0;
function addEffectCard(name, values = {}) {
  const effect = state.effects[name];
  if (!effect) return null;
  const n = ++cardCounter;
  const fields = {};  // name -> {read, write, check, error}
  const main = el("div", { class: "params" });
  const more = el("div", { class: "params" });
  effect.params.forEach((p, i) => {
    const prefix = `p-${n}-${p.name}`;
    const limits = p.min != null && p.max != null ? `from ${p.min} to ${p.max}` : p.min != null ? `at least ${p.min}` : p.max != null ? `at most ${p.max}` : "";
    const help = el("span", { class: "help", text: plainWords(p.help) + (limits ? ` (${limits})` : "") });
    const error = el("div", { class: "field-error hidden", role: "alert", "data-error-for": p.name });
    let field, one;
    if (p.multiple) {
      const box = el("div", { class: "multi" });
      const items = [];
      const addOne = () => {
        const item = paramInput(effect, p, `${prefix}-${items.length}`);
        items.push(item);
        box.insertBefore(item.node, addBtn);
        return item;
      };
      const addBtn = el("button", { type: "button", class: "small", onclick: () => addOne(), text: "+ another" });
      box.append(addBtn);
      addOne();
      one = {
        read: () => { const v = items.map(it => it.read()).filter(x => x !== undefined); return v.length ? v : undefined; },
        write: v => { const list = Array.isArray(v) ? v : [v]; while (items.length < list.length) addOne(); items.forEach((it, k) => it.write(list[k] ?? "")); },
        check: () => items.map(it => it.check()).find(Boolean) || "",
      };
      field = box;
    } else {
      one = paramInput(effect, p, prefix);
      field = one.node;
    }
    fields[p.name] = { ...one, error };
    const wrap = el("div", { class: "param", dataset: { name: p.name } },
      el("label", { class: "pname", for: `${prefix}${p.multiple ? "-0" : ""}` }, label(p.name), p.multiple ? el("span", { class: "ptype", text: " (one or more)" }) : null),
      field, error, help);
    wrap.addEventListener("input", () => showFieldError(fields[p.name], ""));
    wrap.addEventListener("change", () => showFieldError(fields[p.name], ""));
    // The first parameters are shown; the rest fold away so long forms stay readable.
    (i < 4 || effect.params.length <= 5 ? main : more).append(wrap);
  });
  const cardError = el("div", { class: "field-error card-error hidden", role: "alert" });
  const card = el("div", { class: "effect-card", dataset: { effect: name } },
    el("header", {},
      el("span", { class: "title", text: name }),
      el("span", { class: "kind", text: effect.kind === "model" ? "model" : "classical" }),
      el("span", { class: "spacer" }),
      el("button", { type: "button", class: "small", title: "move up", onclick: () => moveCard(entry, -1), text: "↑" }),
      el("button", { type: "button", class: "small", title: "move down", onclick: () => moveCard(entry, 1), text: "↓" }),
      el("button", { type: "button", class: "small", title: "remove", onclick: () => removeCard(entry), text: "remove" })),
    el("p", { class: "summary", text: effect.summary }),
    cardError,
    effect.params.length ? main : el("p", { class: "muted", text: "no settings" }),
    more.children.length ? el("details", { class: "more" }, el("summary", { text: `${more.children.length} more settings` }), more) : null);
  const entry = { name, card, fields, cardError };
  for (const [k, v] of Object.entries(values || {})) if (fields[k]) fields[k].write(v);
  if (Object.keys(values || {}).some(k => more.querySelector(`[data-name='${k}']`))) card.querySelector("details.more")?.setAttribute("open", "");
  state.chain.push(entry);
  $("#chain").append(card);
  updateRunButtons();
  saveState();
  return entry;
}

function moveCard(entry, step) {
  const i = state.chain.indexOf(entry);
  const j = i + step;
  if (j < 0 || j >= state.chain.length) return;
  state.chain.splice(i, 1);
  state.chain.splice(j, 0, entry);
  $("#chain").replaceChildren(...state.chain.map(e => e.card));
  saveState();
}
function removeCard(entry) {
  state.chain = state.chain.filter(e => e !== entry);
  entry.card.remove();
  updateRunButtons();
  saveState();
}
function clearChain() {
  state.chain = [];
  $("#chain").replaceChildren();
  updateRunButtons();
}

function showFieldError(field, message) {
  field.error.textContent = message;
  field.error.classList.toggle("hidden", !message);
  field.error.parentElement?.classList.toggle("has-error", !!message);
}

// The chain as the server takes it; null (and each problem shown next to its field) when a
// field holds something that does not fit.
function chainValues() {
  let first = null;
  const effects = state.chain.map(e => {
    const params = {};
    e.cardError.classList.add("hidden");
    for (const [k, f] of Object.entries(e.fields)) {
      const problem = f.check();
      showFieldError(f, problem);
      if (problem) { first = first || f.error; continue; }
      const v = f.read();
      if (v !== undefined) params[k] = v;
    }
    return { name: e.name, params };
  });
  if (first) { first.scrollIntoView({ block: "center" }); return null; }
  return effects;
}

// The chain with each field's value as typed (for remembering it across reloads).
function chainState() {
  return state.chain.map(e => {
    const params = {};
    for (const [k, f] of Object.entries(e.fields)) {
      const v = f.input && f.input.type === "text" && f.input.classList.contains("num") ? f.input.value.trim() || undefined : f.read();
      if (v !== undefined) params[k] = v;
    }
    return { name: e.name, params };
  });
}

function loadChain(effects) {
  clearChain();
  for (const e of effects || []) addEffectCard(e.name, e.params || {});
}

// An error from the server shown where it belongs: "EFFECT: PARAM: problem" next to that field,
// "EFFECT: problem" at the top of that effect's card, "preview: ..." by the preview's start;
// anything else in the banner. The command line's words (--face PHOTO) become the field's name.
function showJobError(message) {
  const plain = plainWords(message);
  const m = /^([a-z][\w-]*): (.*)$/s.exec(plain);
  if (m && m[1] === "preview") { previewError(m[2]); return; }
  const entry = m && state.chain.find(e => e.name === m[1]);
  if (entry) {
    const rest = m[2];
    const named = /^([a-z][a-z0-9_ ]*?): (.*)$/s.exec(rest);
    const key = named && named[1].replaceAll(" ", "_");
    if (key && entry.fields[key]) { showFieldError(entry.fields[key], named[2]); entry.fields[key].error.scrollIntoView({ block: "center" }); return; }
    const mentioned = Object.keys(entry.fields).find(k => new RegExp(`^${label(k)}\\b`).test(rest));
    if (mentioned) { showFieldError(entry.fields[mentioned], rest); return; }
    entry.cardError.textContent = rest;
    entry.cardError.classList.remove("hidden");
    entry.card.scrollIntoView({ block: "center" });
    return;
  }
  showBanner(plain);
}

function outError(message) {
  $("#out-error").textContent = message;
  $("#out-error").classList.toggle("hidden", !message);
}

function previewError(message) {
  $("#preview-error").textContent = message;
  $("#preview-error").classList.toggle("hidden", !message);
}

function parseClock(text) {
  const parts = String(text).trim().split(":");
  if (!parts.every(x => /^\d*\.?\d+$/.test(x)) || parts.length > 3) return NaN;
  return parts.reduce((acc, x) => acc * 60 + Number(x), 0);
}

function updateRunButtons() {
  const ready = !!state.selected && state.chain.length > 0;
  $("#run-full").disabled = !ready;
  $("#run-preview").disabled = !ready;
}

async function startJob(preview) {
  hideBanner();
  previewError("");
  outError("");
  const effects = chainValues();
  if (!effects) return;
  const body = { input: state.selected, effects, format: $("#out-format").value, audio: $("#out-audio").checked };
  if (window.projects && projects.current()) body.project = projects.current();
  const crf = $("#out-crf");
  if (crf.validity.badInput || !crf.checkValidity()) { outError("quality (CRF) is a whole number from 0 to 63, or empty for auto"); return; }
  if (crf.value !== "") body.crf = Number(crf.value);
  // The player's in/out points, when set, are the range: exact frame times.
  const span = window.player ? player.range() : null;
  if (span && !preview) body.range = { start: span.start, end: span.end };
  const length = $("#preview-length");
  if (span && preview) {
    if (length.validity.badInput || !length.checkValidity()) { previewError("a preview lasts from 0.2 to 30 seconds"); return; }
    body.preview = player.previewRange(Number(length.value) || 2);
  } else if (preview) {
    // The start may be seconds or a timecode (HH:MM:SS.mmm); the server reads both.
    const start = $("#preview-start").value.trim() || "0";
    const at = parseClock(start);
    const duration = state.probe && state.probe.duration_seconds;
    if (Number.isNaN(at)) { previewError("the start is seconds or HH:MM:SS.mmm"); return; }
    if (length.validity.badInput || !length.checkValidity()) { previewError("a preview lasts from 0.2 to 30 seconds"); return; }
    if (duration != null && at >= duration) { previewError(`starts past the end of the clip (${duration.toFixed(2)} s)`); return; }
    body.preview = { start, length: Number($("#preview-length").value) || 2 };
  }
  try {
    const job = await api("/api/jobs", { method: "POST", json: body });
    state.mine.add(job.id);
    upsertJob(job);
  } catch (e) {
    showJobError(e.message);
  }
}

// -- what the page remembers across a reload (per studio: its data folder's id) -------------
function storageKey() { return state.health && state.health.studio_id ? `moviola-studio:${state.health.studio_id}` : null; }

function saveState() {
  if (state.restoring) return;
  clearTimeout(saveState.timer);
  saveState.timer = setTimeout(() => {
    const key = storageKey();
    if (!key) return;
    const saved = {
      selected: state.selected, chain: chainState(), tab: state.tab,
      out: { format: $("#out-format").value, crf: $("#out-crf").value, audio: $("#out-audio").checked },
      preview: { start: $("#preview-start").value, length: $("#preview-length").value },
    };
    try { localStorage.setItem(key, JSON.stringify(saved)); } catch (e) { /* storage full or off */ }
  }, 150);
}

async function restoreState() {
  const key = storageKey();
  let saved = null;
  try { saved = key && JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { saved = null; }
  if (!saved) return;
  state.restoring = true;
  try {
    for (const item of saved.chain || []) if (state.effects[item.name]) addEffectCard(item.name, item.params);
    if (saved.out) {
      if (state.formats.includes(saved.out.format)) $("#out-format").value = saved.out.format;
      $("#out-crf").value = saved.out.crf || "";
      $("#out-audio").checked = saved.out.audio !== false;
    }
    if (saved.preview) {
      $("#preview-start").value = saved.preview.start || "0";
      $("#preview-length").value = saved.preview.length || "2";
    }
    if (saved.selected && state.media.some(f => f.id === saved.selected)) await selectMedia(saved.selected);
    if (saved.tab === "editing") setTab("editing");
  } finally {
    state.restoring = false;
  }
}

// "Edit and run again": a job's clip, chain and settings back in the editor.
async function editJob(job) {
  const spec = job.spec || {};
  state.restoring = true;
  try {
    loadChain(spec.effects);
    if (spec.format) $("#out-format").value = spec.format;
    $("#out-crf").value = spec.crf ?? "";
    $("#out-audio").checked = spec.audio !== false;
    if (spec.preview) {
      $("#preview-start").value = String(spec.preview.start);
      $("#preview-length").value = String(Math.round((spec.preview.end - spec.preview.start) * 1000) / 1000);
    }
  } finally {
    state.restoring = false;
  }
  if (state.tab !== "effects") setTab("effects");
  if (window.player && spec.input) player.setRangeSeconds(spec.input, spec.range || null);
  if (spec.input && spec.input !== state.selected && state.media.some(f => f.id === spec.input)) await selectMedia(spec.input);
  saveState();
  $("#chain").scrollIntoView({ block: "start" });
  showBanner(`the settings of “${job.title}” are in the editor: change them and run`, "info");
}

function wireForms() {
  const view = $("#view-effects");
  // A fixed mistake takes its stale message with it.
  view.addEventListener("input", () => { if (!$("#banner").classList.contains("info")) hideBanner(); saveState(); });
  view.addEventListener("change", saveState);
  $("#preview-start").addEventListener("input", () => previewError(""));
  $("#preview-length").addEventListener("input", () => previewError(""));
  $("#out-crf").addEventListener("input", () => outError(""));
  document.body.append(el("datalist", { id: "rate-suggestions" }, ...RATE_SUGGESTIONS.map(r => el("option", { value: r }))));
}
