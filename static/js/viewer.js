// A conversion's page: the before/after slider (an <input type=range> drives it, so arrow keys
// and screen readers work; pointer and touch drags on the picture set it too), the toggle back
// to side by side, and the full-size viewer (a modal <dialog>: Esc closes it; zoom by buttons,
// keys, wheel and pinch; pan by dragging or arrow keys). Styles are set through the CSSOM, which
// the site's Content-Security-Policy allows (no inline style attributes).
(function () {
  "use strict";
  const root = document.querySelector("[data-conversion][data-detail]");
  if (!root) return;
  const compare = root.querySelector("[data-compare]");
  const toggle = root.querySelector("[data-view-toggle]");
  const sideBySide = root.querySelector("[data-side-by-side]");
  const dialog = root.querySelector("[data-viewer]");
  if (!compare || !dialog) return;
  const resultUrl = compare.dataset.resultUrl;

  // --- before/after -------------------------------------------------------------------------
  const stage = compare.querySelector("[data-compare-stage]");
  const after = compare.querySelector("[data-compare-after]");
  const range = compare.querySelector("[data-compare-position]");
  const modelName = compare.dataset.modelName || "result";

  function setPosition(value) {
    const v = Math.max(0, Math.min(100, Math.round(value)));
    range.value = String(v);
    range.setAttribute("aria-valuetext", v + "% original, " + (100 - v) + "% " + modelName);
    stage.style.setProperty("--pos", v + "%");
  }
  range.addEventListener("input", () => setPosition(Number(range.value)));

  let dragging = null;
  function fromPointer(event) {
    const box = stage.getBoundingClientRect();
    if (box.width > 0) setPosition(((event.clientX - box.left) / box.width) * 100);
  }
  stage.addEventListener("pointerdown", (event) => {
    dragging = event.pointerId;
    stage.setPointerCapture(event.pointerId);
    fromPointer(event);
  });
  stage.addEventListener("pointermove", (event) => { if (dragging === event.pointerId) fromPointer(event); });
  ["pointerup", "pointercancel"].forEach((type) => stage.addEventListener(type, () => { dragging = null; }));

  // Both images fill one box of the result's shape, so they line up whatever the original's size.
  function shapeStage(width, height) {
    if (!width || !height) return;
    stage.style.aspectRatio = width + " / " + height;
    stage.style.maxWidth = "min(100%, " + width + "px)";
  }
  shapeStage(Number(compare.dataset.width), Number(compare.dataset.height));
  after.addEventListener("load", () => shapeStage(after.naturalWidth, after.naturalHeight));

  // Side by side first (what the page shows without scripts); a person's choice is kept for the next page.
  const VIEW_KEY = "restyle.compareView";
  function savedView() {
    try { return window.localStorage.getItem(VIEW_KEY) === "compare" ? "compare" : "side"; } catch (e) { return "side"; }
  }
  function show(view) {
    const comparing = view === "compare";
    compare.hidden = !comparing;
    if (sideBySide) sideBySide.hidden = comparing;
    toggle.querySelectorAll("[data-view]").forEach((button) => {
      const on = button.dataset.view === view;
      button.setAttribute("aria-pressed", String(on));
      button.classList.toggle("secondary", !on);
    });
  }
  toggle.querySelectorAll("[data-view]").forEach((button) => {
    button.addEventListener("click", () => {
      show(button.dataset.view);
      try { window.localStorage.setItem(VIEW_KEY, button.dataset.view); } catch (e) { /* private mode: not kept */ }
    });
  });

  // --- the full-size viewer -----------------------------------------------------------------
  const view = dialog.querySelector("[data-viewer-stage]");
  const full = dialog.querySelector("[data-viewer-image]");
  const level = dialog.querySelector("[data-zoom-level]");
  const MIN = 0.05, MAX = 16, STEP = 1.25;
  const state = {scale: 1, x: 0, y: 0, fit: 1};

  function apply() {
    full.style.transform = "translate(" + state.x + "px, " + state.y + "px) scale(" + state.scale + ")";
    level.textContent = Math.round(state.scale * 100) + "%";
    dialog.dataset.scale = String(state.scale);
  }
  // Zoom to `scale` keeping the point (px, py) of the stage (its centre by default) where it is.
  function zoomTo(scale, px, py) {
    const box = view.getBoundingClientRect();
    const cx = px === undefined ? box.width / 2 : px;
    const cy = py === undefined ? box.height / 2 : py;
    const next = Math.max(MIN, Math.min(MAX, scale));
    state.x = cx - ((cx - state.x) * next) / state.scale;
    state.y = cy - ((cy - state.y) * next) / state.scale;
    state.scale = next;
    apply();
  }
  function fit() {
    const box = view.getBoundingClientRect();
    const w = full.naturalWidth || 1, h = full.naturalHeight || 1;
    state.fit = Math.min(1, box.width / w, box.height / h);
    state.scale = state.fit;
    state.x = (box.width - w * state.scale) / 2;
    state.y = (box.height - h * state.scale) / 2;
    apply();
  }
  function actual() { zoomTo(1); }

  let opener = null;
  function open(event) {
    if (event) event.preventDefault();
    opener = document.activeElement;
    if (!dialog.open) dialog.showModal();
    if (full.getAttribute("src") !== resultUrl) {
      full.addEventListener("load", fit, {once: true});
      full.src = resultUrl;
    } else {
      fit();
    }
    view.focus();
  }
  function close() { if (dialog.open) dialog.close(); }

  dialog.querySelector("[data-viewer-close]").addEventListener("click", close);
  dialog.querySelectorAll("[data-zoom]").forEach((button) => {
    button.addEventListener("click", () => {
      const how = button.dataset.zoom;
      if (how === "in") zoomTo(state.scale * STEP);
      else if (how === "out") zoomTo(state.scale / STEP);
      else if (how === "fit") fit();
      else actual();
    });
  });
  dialog.addEventListener("close", () => { if (opener && opener.focus) opener.focus(); });
  view.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = view.getBoundingClientRect();
    zoomTo(state.scale * (event.deltaY < 0 ? STEP : 1 / STEP), event.clientX - box.left, event.clientY - box.top);
  }, {passive: false});
  view.addEventListener("keydown", (event) => {
    const pan = 40;
    const moves = {ArrowLeft: [pan, 0], ArrowRight: [-pan, 0], ArrowUp: [0, pan], ArrowDown: [0, -pan]};
    if (moves[event.key]) {
      state.x += moves[event.key][0];
      state.y += moves[event.key][1];
      apply();
    } else if (event.key === "+" || event.key === "=") zoomTo(state.scale * STEP);
    else if (event.key === "-") zoomTo(state.scale / STEP);
    else if (event.key === "0") fit();
    else return;
    event.preventDefault();
  });

  // Drag to pan with one pointer; pinch with two (the distance between them scales the image).
  const pointers = new Map();
  let pinch = null;
  view.addEventListener("pointerdown", (event) => {
    view.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, {x: event.clientX, y: event.clientY});
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = {distance: Math.hypot(a.x - b.x, a.y - b.y) || 1, scale: state.scale};
    }
  });
  view.addEventListener("pointermove", (event) => {
    const last = pointers.get(event.pointerId);
    if (!last) return;
    const now = {x: event.clientX, y: event.clientY};
    pointers.set(event.pointerId, now);
    if (pointers.size === 1) {
      state.x += now.x - last.x;
      state.y += now.y - last.y;
      apply();
    } else if (pinch && pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const box = view.getBoundingClientRect();
      zoomTo(pinch.scale * (Math.hypot(a.x - b.x, a.y - b.y) / pinch.distance),
             (a.x + b.x) / 2 - box.left, (a.y + b.y) / 2 - box.top);
    }
  });
  ["pointerup", "pointercancel"].forEach((type) => view.addEventListener(type, (event) => {
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = null;
  }));

  // --- wiring: now, and again when jobs.js puts the finished result in place ----------------
  function linkResult() {
    const img = root.querySelector("img[data-result]");
    if (!img) return false;
    let link = img.closest("[data-viewer-open]");
    if (!link) {
      link = document.createElement("a");
      link.href = resultUrl;
      link.dataset.viewerOpen = "";
      link.setAttribute("aria-label", "Open the converted image at full size");
      img.replaceWith(link);
      link.appendChild(img);
    }
    if (!link.dataset.wired) {
      link.dataset.wired = "1";
      link.addEventListener("click", open);
    }
    return true;
  }
  function ready() {
    if (!linkResult() || !toggle.hidden) return;
    if (!after.getAttribute("src")) after.src = resultUrl;
    toggle.hidden = false;
    root.querySelectorAll("[data-enable-on-success]").forEach((button) => { button.disabled = false; });
    toggle.querySelector("[data-viewer-button]").addEventListener("click", open);
    setPosition(Number(range.value));
    show(savedView());
  }
  ready();
  new MutationObserver(ready).observe(root, {childList: true, subtree: true});
})();
