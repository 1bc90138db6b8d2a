// moviola studio: projects and batches. A project (GET/POST /api/projects) groups footage,
// jobs and exports: while one is chosen the library and the job list show only its own, and
// what is uploaded or run is filed under it. A batch runs the chain in the editor over the
// assets ticked in the library, one job each (POST /api/batch, all checked before any runs).
"use strict";

window.projects = (() => {
  let all = [];
  let chosen = "";
  const picked = new Set();
  let refreshing = null;

  function key() { return state.health && state.health.studio_id ? `moviola-project:${state.health.studio_id}` : null; }
  function current() { return chosen; }
  // The library's filter: the project's own footage, or all of it to pick more from.
  function filter() { return chosen && !$("#project-all").checked ? chosen : ""; }
  function project() { return all.find(p => p.name === chosen) || null; }
  function problem(message) {
    $("#project-error").textContent = message;
    $("#project-error").classList.toggle("hidden", !message);
  }

  async function refresh() {
    try { all = (await api("/api/projects")).projects; } catch (e) { problem(e.message); return; }
    if (chosen && !project()) chosen = "";
    const select = $("#project-select");
    select.replaceChildren(el("option", { value: "", text: "none: all footage and jobs" }),
      ...all.map(p => el("option", { value: p.name, text: `${p.name} (${p.assets.length} footage, ${p.jobs.length} jobs)` })));
    select.value = chosen;
    $("#project-delete").disabled = !chosen;
    $("#project-all-label").classList.toggle("hidden", !chosen);
    $("#batch-add").disabled = !chosen;
  }

  async function choose(name) {
    chosen = name;
    try { if (key()) localStorage.setItem(key(), name); } catch (e) { /* storage off */ }
    await refresh();
    renderJobs();
    if (window.assets) await assets.refresh();
  }

  async function create() {
    problem("");
    try {
      const made = await api("/api/projects", { method: "POST", json: { name: $("#project-name").value } });
      $("#project-name").value = "";
      await choose(made.name);
    } catch (e) { problem(e.message.replace(/^name: /, "")); }
  }

  async function remove() {
    if (!chosen || !window.confirm(`Forget the project “${chosen}”? Its footage and jobs stay.`)) return;
    try {
      await api(`/api/projects/${encodeURIComponent(chosen)}`, { method: "DELETE" });
      await choose("");
    } catch (e) { problem(e.message); }
  }

  // -- ticking assets for a batch ----------------------------------------------------------
  function pickBox(a) {
    if (a.kind === "audio") return el("span", { class: "pick-space" });
    return el("input", {
      type: "checkbox", class: "pick", "aria-label": `select ${a.name}`, checked: picked.has(a.id),
      onclick: ev => ev.stopPropagation(),
      onchange: ev => { ev.target.checked ? picked.add(a.id) : picked.delete(a.id); showPicked(); },
    });
  }

  function showPicked() {
    $("#batch-bar").classList.toggle("hidden", !picked.size);
    $("#batch-count").textContent = `${picked.size} selected:`;
  }

  function clearPicked() {
    picked.clear();
    showPicked();
    document.querySelectorAll("#media-list input.pick").forEach(b => { b.checked = false; });
  }

  async function runBatch() {
    hideBanner();
    if (!state.chain.length) { showBanner("add an effect to the chain first: the batch runs it on each selected asset"); return; }
    const effects = chainValues();
    if (!effects) return;
    const body = { inputs: [...picked], effects, format: $("#out-format").value, audio: $("#out-audio").checked };
    if ($("#out-crf").value !== "") body.crf = Number($("#out-crf").value);
    if (chosen) body.project = chosen;
    try {
      const made = await api("/api/batch", { method: "POST", json: body });
      if (chosen) await refresh();
      made.jobs.forEach(upsertJob);
      clearPicked();
      showBanner(`${made.jobs.length} jobs queued, one for each selected asset`, "info");
    } catch (e) { showBanner(e.message); }
  }

  async function addPicked() {
    if (!chosen) return;
    try {
      await api(`/api/projects/${encodeURIComponent(chosen)}/add`, { method: "POST", json: { assets: [...picked] } });
      clearPicked();
      await refresh();
      if (window.assets) await assets.refresh();
    } catch (e) { showBanner(e.message); }
  }

  // A project lists its own jobs; a job this page has not seen in it may be new: look again.
  function showJob(job) {
    const p = project();
    return !p || p.jobs.includes(job.id);
  }
  function onJob(job) {
    const p = project();
    if (!p || p.jobs.includes(job.id) || refreshing) return;
    refreshing = setTimeout(async () => { refreshing = null; await refresh(); renderJobs(); }, 100);
  }

  function wire() {
    $("#project-select").addEventListener("change", e => choose(e.target.value));
    $("#project-all").addEventListener("change", () => window.assets && assets.refresh());
    $("#project-create").addEventListener("click", create);
    $("#project-name").addEventListener("keydown", e => { if (e.key === "Enter") create(); });
    $("#project-name").addEventListener("input", () => problem(""));
    $("#project-delete").addEventListener("click", remove);
    $("#batch-run").addEventListener("click", runBatch);
    $("#batch-add").addEventListener("click", addPicked);
    $("#batch-clear").addEventListener("click", clearPicked);
    hooks.showJob.push(showJob);
    hooks.job.push(onJob);
  }

  // The project chosen before a reload, once the page knows this studio's id.
  async function restore() {
    try { chosen = (key() && localStorage.getItem(key())) || ""; } catch (e) { chosen = ""; }
    await refresh();
  }

  wire();
  return { current, filter, pickBox, refresh, restore };
})();
