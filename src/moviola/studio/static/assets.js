// moviola studio: the asset library (GET /api/assets: uploads, media folders and every job's
// result, sorted and filtered by the server), an asset's lineage and delete, "Use as footage"
// for a result, and exporting the before/after comparison as a video (a compare job).
"use strict";

window.assets = (() => {
  let list = null;      // the assets as last listed
  let timer = null;
  const ICON = { clip: "▶", photo: "▣", audio: "♪" };
  const ORIGIN = { upload: "upload", media: "media folder", result: "result" };

  async function refresh() {
    const project = window.projects ? projects.filter() : "";
    const query = new URLSearchParams({ sort: $("#asset-sort").value, kind: $("#asset-kind").value, q: $("#media-filter").value.trim(), project });
    try {
      list = (await api(`/api/assets?${query}`)).assets;
    } catch (e) { showBanner(e.message); return; }
    render();
  }

  function thumb(a) {
    if (a.kind === "audio") return el("span", { class: "thumb icon", text: ICON.audio, "aria-hidden": "true" });
    return el("img", { class: "thumb", loading: "lazy", alt: "", src: mediaUrl("frame", a.id, "&t=0&w=96") });
  }

  function render() {
    if (!list) { refresh(); return; }
    const items = list.map(a => el("li", {
      class: `asset ${a.kind}${a.id === state.selected ? " selected" : ""}`, dataset: { id: a.id, kind: a.kind, origin: a.origin }, title: a.id,
      onclick: () => selectMedia(a.id),
    }, window.projects ? projects.pickBox(a) : null, thumb(a),
    el("span", { class: "asset-text" },
      el("span", { class: "name", text: a.name.split("/").pop() }),
      el("span", { class: "meta", text: [a.kind, fmtBytes(a.size), a.origin === "result" ? "result" : null].filter(Boolean).join(" · ") }))));
    $("#media-list").replaceChildren(...(items.length ? items : [el("li", { class: "root", text: "nothing matches" })]));
    if (state.selected) details(state.selected);
  }

  // The chosen asset: where it is from, the chain of jobs that made it, and delete.
  async function details(id) {
    const box = $("#asset-details");
    let d;
    try { d = await api(`/api/assets/item?id=${encodeURIComponent(id)}`); } catch (e) { box.replaceChildren(); return; }
    if (state.selected !== id) return;
    const link = target => el("a", { href: "#", class: "asset-link", text: target, onclick: ev => { ev.preventDefault(); selectMedia(target); } });
    const steps = d.lineage.map(step => el("li", {},
      el("b", { text: step.asset.split("/").pop() }), " made by ", el("i", { text: step.title }),
      ...(step.from && step.from.length ? [" from ", ...step.from.flatMap((f, i) => [i ? ", " : "", link(f)])] : [])));
    box.replaceChildren(...[
      el("div", { class: "muted", id: "asset-origin", text: `${ORIGIN[d.origin]}: ${d.id}` }),
      steps.length ? el("details", { class: "lineage", open: true }, el("summary", { text: "lineage" }), el("ol", { id: "asset-lineage" }, ...steps)) : null,
      d.deletable ? el("button", { class: "small danger", id: "asset-delete", onclick: () => remove(d) }, "Delete…") : null].filter(Boolean));
  }

  async function remove(d) {
    const what = d.origin === "result" ? `the result ${d.name} and the job that made it` : `the upload ${d.name}`;
    if (!window.confirm(`Delete ${what}? This cannot be undone.`)) return;
    try {
      const done = await api(`/api/assets/item?id=${encodeURIComponent(d.id)}`, { method: "DELETE" });
      if (done.job) { state.jobs.delete(done.job); if (state.openJob === done.job) closeResult(); renderJobs(); }
      if (state.selected === d.id) { state.selected = null; $("#probe").classList.add("hidden"); hooks.select.forEach(h => h(null, null)); }
      await loadMedia();
      showBanner(`deleted ${d.name}`, "info");
    } catch (e) { showBanner(e.message); }
  }

  function resultId(job) { return job.result && job.result.output ? `results/${job.id}/${job.result.output}` : null; }

  // A finished result is footage for the next job, in one click.
  function jobActions(job) {
    if (job.status !== "done" || !["effects", "compare"].includes(job.kind) || !resultId(job)) return [];
    const out = [el("button", { class: "small", "data-action": "use", title: "choose this result as the clip for the next job", onclick: () => use(job) }, "Use as footage")];
    if (job.kind === "compare")
      out.push(el("a", { class: "button small", "data-action": "download", href: `/api/jobs/${job.id}/result`, download: job.result.output, text: "Download" }));
    return out;
  }

  async function use(job) {
    const id = resultId(job);
    if (!state.media.some(f => f.id === id)) await loadMedia();
    if (state.tab !== "effects") setTab("effects");
    await selectMedia(id);
    $("#view-effects").scrollIntoView({ block: "start" });
  }

  function onJob(job, before) {
    const finished = job.status === "done" && (!before || before.status !== "done");
    if (finished && ["effects", "compare", "score"].includes(job.kind)) loadMedia().catch(() => {});
    if (job.kind === "compare" && job.id === exportJob) exportStatus(job);
  }

  // -- the comparison as a video ---------------------------------------------------------------
  let exportJob = null;
  async function exportComparison() {
    const body = { kind: "compare", job: state.openJob, mode: $("#cmp-export-mode").value, position: Number($("#cmp-split").value) / 100 };
    if (window.projects && projects.current()) body.project = projects.current();
    try {
      const job = await api("/api/jobs", { method: "POST", json: body });
      exportJob = job.id;
      upsertJob(job);
      exportStatus(job);
    } catch (e) { $("#cmp-export-status").textContent = e.message; }
  }

  function exportStatus(job) {
    const box = $("#cmp-export-status");
    if (job.status === "done") {
      box.replaceChildren("ready: ", el("a", { href: `/api/jobs/${job.id}/result`, download: job.result.output, id: "cmp-export-download", text: job.result.output }));
    } else if (job.status === "failed") {
      box.textContent = job.error || "failed";
    } else {
      const p = job.progress || {};
      box.textContent = job.status === "running" && p.fraction != null ? `writing… ${Math.round(p.fraction * 100)} %` : `${job.status}…`;
    }
  }

  function wire() {
    $("#media-filter").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 200); });
    $("#asset-sort").addEventListener("change", refresh);
    $("#asset-kind").addEventListener("change", refresh);
    $("#cmp-export").addEventListener("click", exportComparison);
    $("#result-close").addEventListener("click", () => { exportJob = null; $("#cmp-export-status").textContent = ""; });
    hooks.job.push(onJob);
    hooks.actions.push(jobActions);
    hooks.select.push(id => { if (!id) $("#asset-details").replaceChildren(); });
  }

  wire();
  return { refresh, render, details, resultId };
})();
