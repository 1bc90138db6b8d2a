// moviola studio: presets, an effect chain with its values kept under a name (GET/POST
// /api/presets): save the chain in the editor, load one back, delete it, export it as a JSON
// file and import one. The server checks a preset as it checks a job's chain.
"use strict";

window.presets = (() => {
  let all = [];

  function problem(message) {
    $("#preset-error").textContent = message;
    $("#preset-error").classList.toggle("hidden", !message);
  }

  async function refresh(chosen) {
    try { all = (await api("/api/presets")).presets; } catch (e) { problem(e.message); return; }
    const select = $("#preset-select");
    const keep = chosen || select.value;
    select.replaceChildren(...(all.length ? all.map(p => el("option", { value: p.name, text: `${p.name} (${p.effects.map(e => e.name).join(" + ")})` }))
      : [el("option", { value: "", text: "none saved yet" })]));
    if (all.some(p => p.name === keep)) select.value = keep;
    update();
  }

  function chosen() { return all.find(p => p.name === $("#preset-select").value) || null; }

  function update() {
    const p = chosen();
    for (const id of ["#preset-load", "#preset-delete"]) $(id).disabled = !p;
    const link = $("#preset-export");
    link.classList.toggle("disabled", !p);
    link.href = p ? `/api/presets/${encodeURIComponent(p.name)}/export` : "#";
  }

  async function save() {
    problem("");
    const name = $("#preset-name").value.trim();
    if (!name) { problem("give the preset a name"); return; }
    if (!state.chain.length) { problem("add an effect to the chain first"); return; }
    const effects = chainValues();
    if (!effects) { problem("fix the marked fields first"); return; }
    try {
      const saved = await api("/api/presets", { method: "POST", json: { name, effects } });
      $("#preset-name").value = "";
      await refresh(saved.name);
      showBanner(`saved the preset “${saved.name}”`, "info");
    } catch (e) { problem(e.message); }
  }

  function load() {
    const p = chosen();
    if (!p) return;
    problem("");
    loadChain(p.effects);
    saveState();
    showBanner(`the preset “${p.name}” is in the chain`, "info");
  }

  async function remove() {
    const p = chosen();
    if (!p || !window.confirm(`Delete the preset “${p.name}”?`)) return;
    try {
      await api(`/api/presets/${encodeURIComponent(p.name)}`, { method: "DELETE" });
      await refresh();
    } catch (e) { problem(e.message); }
  }

  async function importFile(file) {
    if (!file) return;
    problem("");
    try {
      const saved = await api("/api/presets/import", { method: "POST", body: await file.text(), headers: { "Content-Type": "application/json" } });
      await refresh(saved.name);
      showBanner(`imported the preset “${saved.name}”`, "info");
    } catch (e) { problem(e.message); }
    $("#preset-import").value = "";
  }

  function wire() {
    $("#preset-save").addEventListener("click", save);
    $("#preset-load").addEventListener("click", load);
    $("#preset-delete").addEventListener("click", remove);
    $("#preset-select").addEventListener("change", update);
    $("#preset-name").addEventListener("input", () => problem(""));
    $("#preset-import").addEventListener("change", e => importFile(e.target.files[0]));
    $("#preset-export").addEventListener("click", e => { if (!chosen()) e.preventDefault(); });
    refresh();
  }

  wire();
  return { refresh };
})();
