// moviola studio: music for the chosen clip (moviola score). Listen makes the music alone, fitted
// to the clip's cuts, and plays it here; Render makes the clip with its music, as a job whose
// result plays here and downloads like any other. Uses app.js's helpers ($, el, api, state...).
"use strict";

window.music = (() => {
  const panel = { job: null, options: null, clip: null };

  function listenFormat() {
    const audio = document.createElement("audio");
    if (audio.canPlayType('audio/mp4; codecs="mp4a.40.2"')) return "m4a";
    if (audio.canPlayType('audio/ogg; codecs="opus"')) return "ogg";
    return "wav";
  }

  async function load() {
    let o;
    try { o = await api("/api/music"); } catch (e) { showMissing(e.message); return; }
    panel.options = o;
    $("#music-mood").replaceChildren(...o.moods.map(m => el("option", { value: m.name, text: `${m.name}: ${m.description}` })));
    styleChoices();
    const [lo, hi] = o.tempo_range;
    Object.assign($("#music-bpm"), { min: lo, max: hi });
    if (!o.available) showMissing(o.message);
    update();
  }

  function showMissing(message) {
    $("#music-missing").textContent = `Music is not available in this install: ${message}`;
    $("#music-missing").classList.remove("hidden");
    $("#music-form").classList.add("hidden");
    $("#music-run").classList.add("hidden");
    update();
  }

  // "The mood's own" names the instruments the chosen mood would use.
  function styleChoices() {
    const o = panel.options;
    if (!o) return;
    const mood = o.moods.find(m => m.name === $("#music-mood").value) || o.moods[0];
    const chosen = $("#music-style").value;
    $("#music-style").replaceChildren(
      el("option", { value: "", text: `the mood's own (${mood.style})` }),
      ...o.styles.map(s => el("option", { value: s.name, text: `${s.name}: ${s.description}`, title: s.description })));
    $("#music-style").value = chosen;
    const [, , favourite] = mood.tempo;
    if ($("#music-tempo-mode").value === "auto") $("#music-bpm").value = Math.round(favourite);
  }

  function busy() {
    const job = panel.job && state.jobs.get(panel.job);
    return !!job && (job.status === "queued" || job.status === "running");
  }

  function update() {
    const ready = !!(panel.options && panel.options.available && state.selected && panel.clip && panel.clip.video.length);
    $("#music-listen").disabled = !ready || busy();
    $("#music-render").disabled = !ready || busy();
    $("#music-cancel").classList.toggle("hidden", !busy());
    const silent = !!panel.clip && !panel.clip.audio.length;
    const mix = document.querySelector("input[name='music-sound'][value='mix']");
    mix.disabled = silent;
    if (silent) document.querySelector("input[name='music-sound'][value='replace']").checked = true;
    $("#music-sound").title = silent ? "this clip has no sound: the music becomes its sound" : "";
  }

  function reset() {
    panel.job = null;
    for (const m of ["#music-audio", "#music-video"]) { const node = $(m); node.pause(); node.removeAttribute("src"); node.load(); }
    $("#music-listened").classList.add("hidden");
    $("#music-rendered").classList.add("hidden");
    setStatus("");
    setError("");
  }

  function onSelect(info) {
    if (panel.clip && info && panel.clip.path !== info.path) reset();
    panel.clip = info;
    if (info && !info.video.length) setError("This file has no picture: music is scored to a video.");
    update();
  }

  function setStatus(text) { $("#music-status").textContent = text; }
  function setError(text) {
    $("#music-error").textContent = text;
    $("#music-error").classList.toggle("hidden", !text);
  }

  function settings() {
    const bpm = $("#music-bpm");
    if ($("#music-tempo-mode").value === "set" && !bpm.checkValidity())
      throw new Error(`The tempo must be a number of beats a minute from ${bpm.min} to ${bpm.max}.`);
    const seed = $("#music-seed");
    if (!seed.checkValidity() || seed.value === "") throw new Error("The variation must be a whole number from 0 up.");
    return {
      mood: $("#music-mood").value,
      style: $("#music-style").value || null,
      tempo: $("#music-tempo-mode").value === "set" ? Number(bpm.value) : "auto",
      seed: Number(seed.value),
      sound: document.querySelector("input[name='music-sound']:checked").value,
      midi: $("#music-midi").checked,
    };
  }

  async function start(listen) {
    setError("");
    let body;
    try { body = { kind: "score", input: state.selected, listen, ...settings() }; } catch (e) { setError(e.message); return; }
    if (listen) body.listen_format = listenFormat();
    try {
      const job = await api("/api/jobs", { method: "POST", json: body });
      panel.job = job.id;
      $(listen ? "#music-listened" : "#music-rendered").classList.add("hidden");
      upsertJob(job);
    } catch (e) {
      setError(e.message);
    }
  }

  function onJob(job) {
    if (job.id !== panel.job) { update(); return; }
    const p = job.progress || {};
    const doing = job.spec && job.spec.listen ? "the music to listen to" : "the clip with its music";
    if (job.status === "queued") setStatus(`waiting to make ${doing}…`);
    else if (job.status === "running") setStatus(`${p.phase_text || "starting"}…`);
    else setStatus("");
    if (job.status === "failed" || job.status === "interrupted") setError(job.error || "it stopped");
    if (job.status === "cancelled") setStatus("cancelled");
    if (job.status === "done" && job.result && panel.shown !== `${job.id}:${job.finished}`) show(job);
    update();
  }

  function tempoText(sections) {
    const bpms = [...new Set(sections.map(s => Math.round(s.bpm)))];
    if (!bpms.length) return null;
    const lo = Math.min(...bpms), hi = Math.max(...bpms);
    return lo === hi ? `${lo} beats a minute` : `${lo} to ${hi} beats a minute`;
  }

  function cutsText(r) {
    if (!r.cuts) return "no cuts found: a steady tempo";
    const onBeat = Math.round(r.on_beat * r.cuts), onBar = Math.round(r.on_bar * r.cuts);
    if (r.cuts === 1) return onBar ? "the cut on the first beat of a bar" : onBeat ? "the cut on a beat" : "the cut between beats";
    return `${onBeat} of ${r.cuts} cuts on a beat, ${onBar ? onBar : "none"} on the first beat of a bar`;
  }

  function summary(r) {
    const letters = r.sections.map(s => s.letter).join(" ");
    return [
      r.key, tempoText(r.sections),
      `${r.sections.length} section${r.sections.length === 1 ? "" : "s"}${r.sections.length > 1 ? ` (${letters})` : ""}`,
      cutsText(r),
      r.hits ? `${r.hits} accent${r.hits === 1 ? "" : "s"} on the strongest cuts` : null,
      `played by ${r.style}`,
      r.duration != null ? `${r.duration.toFixed(1)} s` : null,
    ].filter(Boolean).join(" · ");
  }

  function soundText(r) {
    if (r.sound === "replaced") return "the music replaces the clip's sound";
    if (r.sound === "mixed") return r.ducked ? `the music under the clip's sound, quieter under speech (${r.ducked} time${r.ducked === 1 ? "" : "s"})` : "the music under the clip's sound";
    return null;
  }

  function links(job) {
    const r = job.result;
    const out = [el("a", { class: "button small", "data-action": "download", href: `/api/jobs/${job.id}/result`, download: r.output, text: r.listen ? "Download the music" : "Download" })];
    if (r.midi) out.push(el("a", { class: "button small", "data-action": "midi", href: `/api/jobs/${job.id}/midi`, download: r.midi, text: "MIDI file" }));
    return out;
  }

  function show(job) {
    const r = job.result;
    panel.job = job.id;
    panel.shown = `${job.id}:${job.finished}`;
    setStatus("");
    setError("");
    const src = `/api/jobs/${job.id}/result?inline=1`;
    if (r.listen) {
      $("#music-audio").src = src;
      $("#music-summary").textContent = summary(r);
      $("#music-listened").classList.remove("hidden");
    } else {
      const video = $("#music-video");
      video.src = src;
      $("#music-rendered-summary").textContent = [summary(r), soundText(r), r.fallback].filter(Boolean).join(" · ");
      $("#music-links").replaceChildren(...links(job));
      $("#music-rendered").classList.remove("hidden");
    }
  }

  // In the jobs list: play it in the music panel, download it (and its MIDI file).
  function jobActions(job) {
    const play = el("button", { class: "small", "data-action": "play", text: "Play", onclick: () => {
      setTab("effects");
      show(job);
      $("#music").scrollIntoView({ behavior: "smooth", block: "start" });
      (job.result.listen ? $("#music-audio") : $("#music-video")).play().catch(() => {});
    } });
    return [play, ...links(job)];
  }

  function stats(r) {
    return [r.listen ? "music alone" : soundText(r), r.key, r.duration != null ? `${r.duration.toFixed(1)} s` : null, fmtBytes(r.size_bytes)].filter(Boolean).join(" · ");
  }

  function wire() {
    $("#music-mood").addEventListener("change", styleChoices);
    $("#music-tempo-mode").addEventListener("change", () => {
      const set = $("#music-tempo-mode").value === "set";
      $("#music-bpm").classList.toggle("hidden", !set);
      if (set) $("#music-bpm").focus();
      else styleChoices();  // back to the mood's favourite, shown when set again
    });
    $("#music-listen").addEventListener("click", () => start(true));
    $("#music-render").addEventListener("click", () => start(false));
    $("#music-cancel").addEventListener("click", () => { if (panel.job) jobAction(panel.job, "cancel"); });
    load();
  }

  wire();
  return { onSelect, onJob, jobActions, stats, update };
})();
