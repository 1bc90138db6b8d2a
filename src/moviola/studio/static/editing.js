// moviola studio: the editing view (shots, descriptions, search, exports, transcripts). Loaded
// before app.js, whose wiring uses these functions.
"use strict";

async function loadEditing() {
  if (!state.editing) state.editing = await api("/api/editing");
  const ed = state.editing;
  $("#editing-missing").classList.toggle("hidden", ed.shots);
  $("#editing-missing").textContent = ed.message;
  $("#editing-tools").classList.toggle("hidden", !ed.shots);
  $("#shots-method").replaceChildren(...(ed.methods.length ? ed.methods : ["default"]).map(m => el("option", { value: ed.methods.length ? m : "", text: m })));
  $("#shots-describe").disabled = !ed.describe;
  $("#shots-describe").parentElement.title = ed.describe ? "" : "descriptions are not available in this install";
  $("#search-row").classList.toggle("hidden", !ed.search);
}

async function runShots() {
  if (!state.selected) { showBanner("choose a clip on the left first"); return; }
  try {
    const job = await api("/api/jobs", { method: "POST", json: { kind: "shots", input: state.selected, method: $("#shots-method").value || null, describe: $("#shots-describe").checked } });
    state.mine.add(job.id);
    upsertJob(job);
  } catch (e) { showBanner(e.message); }
}

async function runTranscribe() {
  if (!state.selected) { showBanner("choose a clip on the left first"); return; }
  try {
    const job = await api("/api/jobs", { method: "POST", json: { kind: "transcript", input: state.selected } });
    state.mine.add(job.id);
    upsertJob(job);
  } catch (e) { showBanner(e.message); }
}

function shotCard(source, shot) {
  const mid = (shot.start_seconds + shot.end_seconds) / 2;
  const lines = [];
  if (shot.summary) {
    lines.push(shot.summary);  // the description in words, when the shots were described
  } else {
    const skip = new Set(["index", "shot", "start_frame", "end_frame", "start_timecode", "end_timecode", "start_seconds",
      "end_seconds", "frames", "transition", "transition_frames", "thumbnail", "source", "score", "similarity", "duration", "match"]);
    for (const [k, v] of Object.entries(shot)) {
      if (skip.has(k) || v === null || typeof v === "object") continue;
      lines.push(`${k.replaceAll("_", " ")}: ${typeof v === "number" ? Math.round(v * 100) / 100 : v}`);
    }
  }
  const head = [`${shot.frames} frames`, shot.transition, shot.score != null ? `match ${shot.score.toFixed(2)}` : null].filter(Boolean).join(" · ");
  return el("div", { class: "shot", dataset: { index: shot.index } },
    el("img", { loading: "lazy", alt: `shot ${shot.index + 1}`, src: mediaUrl("frame", source, `&t=${mid.toFixed(3)}&w=320`) }),
    el("div", { class: "body" },
      el("div", {}, el("b", { text: `#${shot.index + 1}` }), " ", el("span", { class: "tc", text: `${shot.start_timecode} – ${shot.end_timecode}` })),
      source !== state.shotsSource ? el("div", { class: "tags", text: source }) : null,
      el("div", { class: "tags", text: head }),
      ...lines.slice(0, 8).map(t => el("div", { class: "desc", text: t }))));
}

async function openShots(id) {
  try {
    const data = await api(`/api/jobs/${id}/shots`);
    $("#shots-view").classList.remove("hidden");
    state.shotsSource = data.input;
    $("#shots-title").textContent = `${data.shots.length} shots in ${data.input} (${data.detector || "detector"})`;
    const formats = (state.editing || (await api("/api/editing"))).export_formats;
    $("#shots-exports").replaceChildren("export: ", ...formats.map(f => el("a", { class: "button", href: `/api/jobs/${id}/export?format=${f}`, text: f.toUpperCase() })));
    $("#shots").replaceChildren(...data.shots.map(s => shotCard(data.input, s)));
  } catch (e) { showBanner(e.message); }
}

async function runSearch() {
  const query = $("#search-query").value.trim();
  if (!query) return;
  $("#search-results").replaceChildren(el("p", { class: "muted", text: "searching…" }));
  try {
    const data = await api("/api/editing/search", { method: "POST", json: { query } });
    if (!data.results.length) {
      $("#search-results").replaceChildren(el("p", { class: "muted", text: "nothing found: shots are searchable once described (tick “describe shots”)" }));
      return;
    }
    const matches = data.results.filter(r => r.match);
    const weak = data.results.filter(r => !r.match).slice(0, matches.length ? 0 : 3);
    $("#search-results").replaceChildren(
      ...(matches.length ? [] : [el("p", { class: "no-match", id: "search-no-match", text: `no match for “${data.query}”: the closest shots, none of them close` })]),
      ...matches.map(r => shotCard(r.source, r)),
      ...weak.map(r => { const card = shotCard(r.source, r); card.classList.add("weak"); return card; }));
  } catch (e) { showBanner(e.message); }
}

