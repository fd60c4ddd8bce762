// Generated images: every element with data-generation polls its image's REST API URL (the
// browser's session authenticates it) until the image is made, then shows it in place (the
// thumbnail in a grid tile, the PNG on the image's page); the tile's "Save to gallery" shows
// once it succeeded (site.css keys it on data-state). The truncation slider shows its value.
(function () {
  "use strict";
  const POLL_MS = 700;
  const FINISHED = ["succeeded", "failed", "cancelled"];

  function render(el, job) {
    el.dataset.state = job.status;
    const badge = el.querySelector("[data-status]");
    if (badge) {
      badge.textContent = job.status_label;
      badge.className = "status status-" + job.status;
    }
    const error = el.querySelector("[data-error]");
    if (error) { error.hidden = !job.error; error.textContent = job.error || ""; }
    const placeholder = el.querySelector("[data-placeholder]");
    if (job.status === "succeeded" && placeholder) {
      const isDetail = el.hasAttribute("data-detail");
      const img = document.createElement("img");
      img.src = isDetail ? job.image_url : job.thumbnail_url;
      img.alt = job.model.name + ", " + job.description;
      img.setAttribute(isDetail ? "data-result" : "data-thumbnail", "");
      placeholder.replaceWith(img);
      const download = el.querySelector("[data-download]");
      if (download) download.hidden = false;
      const timing = el.querySelector("[data-timing]");
      if (timing && job.run_seconds) timing.textContent = "Made in " + job.run_seconds.toFixed(2) + " s.";
    } else if ((job.status === "failed" || job.status === "cancelled") && placeholder) {
      placeholder.textContent = "✕";
    }
    return FINISHED.includes(job.status);
  }

  async function poll(el) {
    try {
      const response = await fetch(el.dataset.statusUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      if (response.status === 404) return;  // deleted elsewhere: stop quietly
      if (response.ok && render(el, await response.json())) return;
    } catch (e) { /* network blip: try again */ }
    setTimeout(() => poll(el), POLL_MS);
  }

  document.querySelectorAll("[data-generation]").forEach((el) => {
    if (!FINISHED.includes(el.dataset.state)) poll(el);
  });

  const slider = document.querySelector("[data-truncation]");
  const shown = document.querySelector("[data-truncation-value]");
  if (slider && shown) {
    const show = () => { shown.textContent = Number(slider.value).toFixed(2); };
    slider.addEventListener("input", show);
    show();
  }

  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();
