// moviola studio: "Pick subject" in the player. A click on the frame sets up an effect of the
// chain (POST /api/pick): matte's point (0..1 of the frame, on the first frame the run puts
// through matte; the server says which, and the player goes there) with the mask MobileSAM
// makes there where it is installed; faceswap's target (the faces at this frame, numbered as
// the effect's tracker numbers them from its run's start: a click on a box sets its id); for
// puppet the face it follows. The picture is shown "contain"ed: clicks are measured on the
// picture itself, not on the black bars round it.
"use strict";

window.pick = (() => {
  const PARAMS = { matte: "point", faceswap: "target", puppet: null };
  let on = false;
  let shown = null;   // the last answer drawn: {effect, faces, mask, dot, frame}
  let timer = null;
  let asked = 0;      // answers to older requests are dropped

  const pickable = () => state.chain.filter(e => e.name in PARAMS);
  function chosen() {
    const list = pickable();
    const i = Number($("#pick-effect").value);
    return list[i] || list[0] || null;
  }

  // The effects of the chain a click can set up, in the select beside the button.
  function fillEffects() {
    const list = pickable();
    const sel = $("#pick-effect");
    const keep = sel.value;
    sel.replaceChildren(...list.map((e, i) => el("option", { value: String(i), text: `${e.name}${list.filter(x => x.name === e.name).length > 1 ? ` #${i + 1}` : ""}` })));
    if (keep && Number(keep) < list.length) sel.value = keep;
    sel.classList.toggle("hidden", !on || list.length < 2);
  }

  // Where the picture lies inside the player's screen ("object-fit: contain").
  function pictureRect() {
    const video = $("#player-video");
    const still = $("#player-still");
    const media = video.classList.contains("hidden") ? still : video;
    const nw = media.videoWidth || media.naturalWidth || (state.probe && state.probe.video && state.probe.video[0] && state.probe.video[0].width) || 16;
    const nh = media.videoHeight || media.naturalHeight || (state.probe && state.probe.video && state.probe.video[0] && state.probe.video[0].height) || 9;
    const box = media.getBoundingClientRect();
    const screen = $("#player-screen").getBoundingClientRect();
    const scale = Math.min(box.width / nw, box.height / nh);
    const w = nw * scale, h = nh * scale;
    return { left: box.left - screen.left + (box.width - w) / 2, top: box.top - screen.top + (box.height - h) / 2, width: w, height: h, screen };
  }

  function note(text, kind = "") {
    const n = $("#pick-note");
    n.textContent = text || "";
    n.dataset.kind = kind;
    n.classList.toggle("hidden", !on || !text);
  }

  function clearLayer() {
    shown = null;
    $("#pick-layer").replaceChildren();
  }

  function draw() {
    const layer = $("#pick-layer");
    if (!on || !shown) { layer.classList.add("hidden"); return; }
    const r = pictureRect();
    Object.assign(layer.style, { left: `${r.left}px`, top: `${r.top}px`, width: `${r.width}px`, height: `${r.height}px` });
    const parts = [];
    if (shown.mask) parts.push(el("img", { src: shown.mask, alt: "the subject's mask" }));
    const entry = chosen();
    const current = entry && PARAMS[entry.name] && entry.fields[PARAMS[entry.name]] ? String(entry.fields[PARAMS[entry.name]].read() ?? "") : "";
    for (const f of shown.faces || []) {
      const mine = shown.effect === "puppet" ? f.largest : current === String(f.id);
      const [x0, y0, x1, y1] = f.box;
      parts.push(el("div", {
        class: `pick-box${mine ? " chosen" : ""}`, dataset: { face: f.id },
        style: { left: `${100 * x0}%`, top: `${100 * y0}%`, width: `${100 * (x1 - x0)}%`, height: `${100 * (y1 - y0)}%` },
      }, el("span", { text: `face ${f.id}${f.largest ? " · largest" : ""}${mine && shown.effect === "faceswap" ? " · target" : ""}` })));
    }
    if (shown.dot) parts.push(el("div", { class: "pick-dot", style: { left: `${100 * shown.dot[0]}%`, top: `${100 * shown.dot[1]}%` } }));
    layer.replaceChildren(...parts);
    layer.classList.remove("hidden");
  }

  // Ask the server; x, y null: where to pick (matte) or the faces here (faceswap, puppet).
  async function ask(x, y) {
    const entry = chosen();
    if (!entry || !state.selected) return;
    const span = player.range();
    const body = {
      id: state.selected, effect: entry.name, time: player.exact(player.frame()),
      start: span ? span.start : null, end: span ? span.end : null,
      chain: state.chain.map(e => e.name),
    };
    if (x !== null) Object.assign(body, { x, y });
    if (entry.fields.max_faces) {
      const n = entry.fields.max_faces.read();
      if (n !== undefined && n !== "") body.max_faces = Number(n);
    }
    const mine = ++asked;
    const frame = player.frame();
    if (entry.name !== "matte" || x !== null) note(entry.name === "matte" ? "finding the subject…" : "finding the faces…");
    let answer;
    try {
      answer = await api("/api/pick", { method: "POST", json: body });
    } catch (e) {
      if (mine === asked) note(e.message, "error");
      return;
    }
    if (mine !== asked || !on) return;
    if (answer.go) {  // matte: its point belongs on another frame
      clearLayer();
      player.show(answer.go.frame);
      note(answer.message);
      return;
    }
    const param = PARAMS[entry.name];
    if (param && answer.value != null && entry.fields[param]) {
      entry.fields[param].write(answer.value);
      entry.card.dispatchEvent(new Event("input", { bubbles: true }));
      if (typeof saveState === "function") saveState();
    }
    shown = { effect: entry.name, faces: answer.faces || null, mask: answer.mask || null, dot: x !== null && entry.name === "matte" ? [x, y] : null, frame };
    note(answer.message);
    draw();
  }

  function click(ev) {
    if (!on) return;
    const r = pictureRect();
    const x = (ev.clientX - r.screen.left - r.left) / r.width;
    const y = (ev.clientY - r.screen.top - r.top) / r.height;
    if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) { note("click on the picture, not on the bars round it", "error"); return; }
    player.pause();
    ask(Math.round(x * 1e4) / 1e4, Math.round(y * 1e4) / 1e4);
  }

  function toggle(force) {
    const list = pickable();
    on = force === undefined ? !on : force;
    if (on && !list.length) {
      on = false;
      $("#pick-note").classList.remove("hidden");
      $("#pick-note").textContent = "add matte, faceswap or puppet to the chain first: the click sets up one of them";
      return;
    }
    $("#player-pick").classList.toggle("active", on);
    $("#player-screen").classList.toggle("picking", on);
    fillEffects();
    clearLayer();
    draw();
    note("");
    if (on) ask(null, null);
  }

  function frameChanged(n) {
    if (!on) return;
    if (shown && shown.frame !== n) { clearLayer(); draw(); }
    clearTimeout(timer);
    const entry = chosen();
    if (!entry || entry.name === "matte") return;  // its point has one frame: a click goes back there
    timer = setTimeout(() => { if (on && player.frame() === n) ask(null, null); }, 350);
  }

  function wire() {
    $("#player-pick").addEventListener("click", () => toggle());
    $("#pick-effect").addEventListener("change", () => { clearLayer(); draw(); ask(null, null); });
    $("#player-screen").addEventListener("click", click);
    window.addEventListener("resize", draw);
    hooks.frame.push(frameChanged);
    hooks.select.push(() => toggle(false));
    // the chain changed (a card added, removed or moved): the select follows it
    new MutationObserver(() => {
      fillEffects();
      if (on && !pickable().length) toggle(false);
      else if (on) { clearLayer(); draw(); ask(null, null); }
    }).observe($("#chain"), { childList: true });
    // a new in/out range moves the frame a run starts from (and with it matte's frame)
    const again = () => { if (on) { clearLayer(); draw(); ask(null, null); } };
    for (const sel of ["#player-in", "#player-out", "#player-clear"]) $(sel).addEventListener("click", again);
    document.addEventListener("keydown", e => {
      if ((e.key === "i" || e.key === "o") && !e.target.closest("input, select, textarea")) setTimeout(again, 0);
    });
  }

  wire();
  return { toggle, active: () => on };
})();
