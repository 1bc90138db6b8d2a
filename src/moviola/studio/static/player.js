// moviola studio: the player and timeline of the chosen clip (GET /api/timeline): play, scrub,
// step one frame at the clip's exact rate, in and out points that set the range of a preview
// and of a run, the clip's shots (found by the studio's shot detector, cached per clip) and
// what is said (a transcript made in the Editing tab). Frame n starts at n x den / num seconds;
// in/out are sent as those exact fractions ("9009/30000"), never rounded.
"use strict";

window.player = (() => {
  const P = { id: null, num: 25, den: 1, frames: 1, frame: 0, inF: null, outF: null, video: false, line: null, playing: false };
  const video = () => $("#player-video");
  let stillTimer = null;

  const secondsOf = n => n * P.den / P.num;
  const exact = n => `${n * P.den}/${P.num}`;
  const clamp = n => Math.max(0, Math.min(P.frames - 1, n));
  function fmtTime(s) {
    const m = Math.floor(s / 60);
    return `${m}:${(s - m * 60).toFixed(3).padStart(6, "0")}`;
  }
  function savedKey() { return state.health && state.health.studio_id ? `moviola-player:${state.health.studio_id}` : null; }

  async function load(id, info) {
    P.id = id;
    pause();
    const box = $("#player");
    const file = id && state.media.find(f => f.id === id);
    const hide = () => { box.classList.add("hidden"); $("#probe").classList.remove("with-player"); video().removeAttribute("src"); video().load(); };
    if (!id || !info || !info.video || !info.video.length || (file && file.audio)) { hide(); return; }
    let line;
    try { line = await api(`/api/timeline?id=${encodeURIComponent(id)}`); } catch (e) { hide(); return; }
    if (P.id !== id) return;
    [P.num, P.den] = line.rate.split("/").map(Number);
    Object.assign(P, { line, frames: Math.max(1, line.frames), frame: 0, inF: null, outF: null });
    try {
      const saved = JSON.parse(localStorage.getItem(savedKey()) || "null");
      if (saved && saved.id === id) Object.assign(P, { inF: saved.inF, outF: saved.outF });
    } catch (e) { /* nothing remembered */ }
    if (pending && pending.id === id) applyPending();
    P.video = !line.still && canPlay(id);
    box.classList.remove("hidden");
    $("#probe").classList.add("with-player");  // on the effects view: no second picture
    $("#player-video").classList.toggle("hidden", !P.video);
    $("#player-still").classList.toggle("hidden", P.video);
    $("#player-play").disabled = !P.video;
    $("#player-play").title = P.video ? "play / pause (space)" : "the browser cannot play this format: step and scrub show its frames";
    if (P.video) video().src = mediaUrl("file", id);
    else video().removeAttribute("src");
    drawLanes();
    show(0);
  }

  // The picture, the readout and the playhead at frame n.
  function show(n, fromVideo = false) {
    n = clamp(n);
    P.frame = n;
    if (!fromVideo) {
      const t = (n + 0.5) * P.den / P.num;  // the middle of the frame: no rounding to its neighbour
      if (P.video) video().currentTime = t;
      else {
        clearTimeout(stillTimer);
        stillTimer = setTimeout(() => { $("#player-still").src = mediaUrl("frame", P.id, `&t=${t.toFixed(6)}&w=640`); }, 60);
      }
    }
    $("#player-time").textContent = `frame ${n} of ${P.frames} · ${fmtTime(secondsOf(n))}`;
    $("#player-time").dataset.frame = n;
    $("#tl-head").style.left = `${100 * (n + 0.5) / P.frames}%`;
    drawRange();
    for (const hook of hooks.frame || []) hook(n);
  }

  function drawRange() {
    const r = range();
    $("#player-clear").classList.toggle("hidden", !r);
    $("#tl-range").classList.toggle("hidden", !r);
    $("#player-range").textContent = r
      ? `in ${r.first} (${fmtTime(r.startSeconds)}) – out ${r.last} (${fmtTime(r.endSeconds)}): ${r.frames} frames; preview and run use this range`
      : "whole clip";
    $("#preview-start").disabled = !!r;  // a preview starts at the in point
    $("#preview-start").title = r ? "the preview starts at the in point (clear in/out to type a start)" : "seconds or HH:MM:SS.mmm";
    if (r) Object.assign($("#tl-range").style, { left: `${100 * r.first / P.frames}%`, width: `${100 * r.frames / P.frames}%` });
  }

  function drawLanes() {
    const line = P.line;
    const duration = P.frames * P.den / P.num;
    const shots = line.shots || [];
    $("#tl-shots").replaceChildren(...shots.map((s, i) => el("span", {
      class: `tl-shot${i % 2 ? " odd" : ""}`, dataset: { frame: s.frame }, title: `shot ${i + 1}: frame ${s.frame} (${s.transition})`,
      style: { left: `${100 * s.frame / P.frames}%`, width: `${100 * (((shots[i + 1] || {}).frame ?? P.frames) - s.frame) / P.frames}%` },
    })));
    $("#tl-shots-note").textContent = line.shots ? `${shots.length} shot${shots.length === 1 ? "" : "s"}` : line.shots_job ? "finding the shots…" : "shots not found yet";
    $("#tl-find-shots").classList.toggle("hidden", !!line.shots || !!line.shots_job || !(state.editing ? state.editing.shots : true));
    const said = line.transcript ? line.transcript.segments : [];
    $("#tl-words").classList.toggle("hidden", !said.length);
    $("#tl-words").replaceChildren(...said.map(s => el("span", {
      class: "tl-word", title: `${fmtTime(s.start)}: ${s.text}`, text: s.text,
      style: { left: `${100 * s.start / duration}%`, width: `${100 * Math.max(0.2, s.end - s.start) / duration}%` },
      onclick: () => { pause(); show(Math.floor(s.start * P.num / P.den + 1e-9)); },
    })));
    $("#tl-words-note").textContent = line.transcript
      ? `· what is said: ${said.length} line${said.length === 1 ? "" : "s"}`
      : "· no transcript of this clip (Transcribe, in the Editing tab, puts what is said here)";
  }

  function play() {
    if (!P.video) return;
    if (P.outF !== null && P.frame >= P.outF) show(P.inF ?? 0);
    P.playing = true;
    $("#player-play").textContent = "❚❚";
    video().play().catch(() => pause());
    requestAnimationFrame(follow);
  }
  function pause() {
    P.playing = false;
    $("#player-play").textContent = "▶︎";
    if (P.video) video().pause();
  }
  function follow() {
    if (!P.playing) return;
    const n = clamp(Math.floor(video().currentTime * P.num / P.den + 1e-6));
    if (P.outF !== null && n > P.outF) { pause(); show(P.outF); return; }
    show(n, true);
    if (video().ended) { pause(); return; }
    requestAnimationFrame(follow);
  }
  function step(by) { pause(); show(P.frame + by); }

  function remember() {
    const key = savedKey();
    if (key) try { localStorage.setItem(key, JSON.stringify({ id: P.id, inF: P.inF, outF: P.outF })); } catch (e) { /* storage off */ }
  }
  function setIn() { P.inF = P.frame; if (P.outF !== null && P.outF < P.inF) P.outF = null; remember(); drawRange(); }
  function setOut() { P.outF = P.frame; if (P.inF !== null && P.inF > P.outF) P.inF = null; remember(); drawRange(); }
  function clear() { P.inF = P.outF = null; remember(); drawRange(); }

  // "Edit and run again": a job's range (seconds) as in/out points of its clip (null: none).
  let pending = null;
  function setRangeSeconds(id, span) {
    pending = { id, span };
    if (P.id === id && P.line) { applyPending(); drawRange(); }
  }
  function applyPending() {
    const span = pending.span;
    pending = null;
    P.inF = span ? clamp(Math.round(span.start * P.num / P.den)) : null;
    P.outF = span ? Math.max(P.inF, clamp(Math.round(span.end * P.num / P.den) - 1)) : null;
    remember();
  }

  // The in/out range as the server takes it (exact times), or null for the whole clip.
  function range() {
    if (!P.id || (P.inF === null && P.outF === null) || $("#player").classList.contains("hidden")) return null;
    const first = P.inF ?? 0, last = P.outF ?? P.frames - 1;
    return { first, last, frames: last - first + 1, start: exact(first), end: exact(last + 1), startSeconds: secondsOf(first), endSeconds: secondsOf(last + 1) };
  }
  // A preview from the in point: at most `seconds` long, never past the out point.
  function previewRange(seconds) {
    const r = range();
    if (!r) return null;
    const end = Math.min(r.last + 1, r.first + Math.max(1, Math.round(seconds * P.num / P.den)));
    return { start: r.start, end: exact(end) };
  }

  async function findShots() {
    try {
      const job = await api("/api/timeline/shots", { method: "POST", json: { id: P.id } });
      upsertJob(job);
      P.line.shots_job = job.id;
      drawLanes();
    } catch (e) { showBanner(e.message); }
  }

  function onJob(job, before) {
    const mine = job.spec && job.spec.input === P.id && ["shots", "transcript"].includes(job.kind);
    if (mine && job.status !== (before && before.status) && ["done", "failed", "cancelled"].includes(job.status)) {
      api(`/api/timeline?id=${encodeURIComponent(P.id)}`).then(line => { if (line.id === P.id) { P.line = line; drawLanes(); } }).catch(() => {});
    }
  }

  function scrubTo(ev) {
    const rect = $("#timeline").getBoundingClientRect();
    pause();
    show(Math.floor(P.frames * (ev.clientX - rect.left) / rect.width));
  }

  function wire() {
    $("#player-play").addEventListener("click", () => (P.playing ? pause() : play()));
    $("#player-back").addEventListener("click", () => step(-1));
    $("#player-fwd").addEventListener("click", () => step(1));
    $("#player-in").addEventListener("click", setIn);
    $("#player-out").addEventListener("click", setOut);
    $("#player-clear").addEventListener("click", clear);
    $("#tl-find-shots").addEventListener("click", findShots);
    const line = $("#timeline");
    let dragging = false;
    line.addEventListener("pointerdown", e => { dragging = true; line.setPointerCapture(e.pointerId); scrubTo(e); });
    line.addEventListener("pointermove", e => { if (dragging) scrubTo(e); });
    line.addEventListener("pointerup", () => { dragging = false; });
    video().addEventListener("ended", pause);
    document.addEventListener("keydown", e => {
      if (!P.id || $("#player").classList.contains("hidden") || $("#view-effects").classList.contains("hidden") || e.target.closest("input, select, textarea, button") || e.ctrlKey || e.metaKey || e.altKey) return;
      const keys = { " ": () => (P.playing ? pause() : play()), ArrowLeft: () => step(-1), ArrowRight: () => step(1), i: setIn, o: setOut };
      if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
    });
    hooks.select.push(load);
    hooks.job.push(onJob);
  }

  wire();
  return { range, previewRange, setRangeSeconds, show, frame: () => P.frame, exact, pause };
})();
