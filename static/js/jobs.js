// Live job state: every element with data-conversion polls the job's REST API URL (the
// browser's session authenticates it) until the job finishes, then shows the result in place.
// No page reload, no framework.
(function () {
  "use strict";
  const POLL_MS = 1000;
  const FINISHED = ["succeeded", "failed"];

  function placeImage(el, url, attr, alt) {
    const placeholder = el.querySelector("[data-placeholder]");
    if (!placeholder || !url) return;
    const img = document.createElement("img");
    img.src = url;
    img.alt = alt;
    img.setAttribute(attr, "");
    placeholder.replaceWith(img);
  }

  function render(el, job) {
    el.dataset.state = job.status;
    const badge = el.querySelector("[data-status]");
    if (badge) {
      badge.textContent = job.status_label;
      badge.className = "status status-" + job.status;
    }
    const error = el.querySelector("[data-error]");
    if (error) {
      error.textContent = job.error || "";
      error.hidden = !job.error;
    }
    if (job.status === "succeeded") {
      const isDetail = el.hasAttribute("data-detail");
      placeImage(el, isDetail ? job.result_url : job.thumbnail_url,
                 isDetail ? "data-result" : "data-thumbnail", "Converted image");
      const download = el.querySelector("[data-download]");
      if (download) download.hidden = false;
      const timing = el.querySelector("[data-timing]");
      if (timing && job.run_seconds) timing.textContent = "Converted in " + job.run_seconds.toFixed(2) + " s.";
    } else if (job.status === "failed") {
      const placeholder = el.querySelector("[data-placeholder]");
      if (placeholder) placeholder.textContent = "✕";
    }
  }

  async function poll(el) {
    try {
      const response = await fetch(el.dataset.statusUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      if (response.status === 404) return;  // deleted elsewhere: stop quietly
      if (response.ok) {
        const job = await response.json();
        render(el, job);
        if (FINISHED.includes(job.status)) return;
      }
    } catch (e) { /* network blip: try again */ }
    setTimeout(() => poll(el), POLL_MS);
  }

  document.querySelectorAll("[data-conversion]").forEach((el) => {
    if (!FINISHED.includes(el.dataset.state)) poll(el);
  });

  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();
