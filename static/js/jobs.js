// Live job state: every element with data-conversion polls the job's REST API URL (the
// browser's session authenticates it) until the job finishes, showing progress, the image so
// far (slow jobs) and finally the result in place. No page reload, no framework.
(function () {
  "use strict";
  const POLL_MS = 1000;
  const FINISHED = ["succeeded", "failed", "cancelled"];

  function showImage(el, url, attr, alt) {
    if (!url) return;
    const current = el.querySelector("[data-placeholder], [data-intermediate], [data-result], [data-thumbnail]");
    if (!current) return;
    if (current.tagName === "IMG" && current.hasAttribute(attr)) {
      if (current.dataset.src !== url) { current.dataset.src = url; current.src = url; }
      return;
    }
    const img = document.createElement("img");
    img.src = url;
    img.dataset.src = url;
    img.alt = alt;
    img.setAttribute(attr, "");
    current.replaceWith(img);
  }

  function ordinal(n) {
    const tens = n % 100, ones = n % 10;
    const suffix = tens >= 10 && tens <= 20 ? "th" : ({1: "st", 2: "nd", 3: "rd"}[ones] || "th");
    return n + suffix;
  }

  // What a job does when no progress bar says it (translator/queue_words.py says the same):
  // its place in the queue, "Converting…" for a running job that reports no steps, or nothing.
  function note(job) {
    if (job.status === "queued" && job.queue_position) {
      return job.queue_position === 1 ? "Next in the queue, waiting for a worker" : ordinal(job.queue_position) + " in the queue";
    }
    if (job.status === "running" && !job.progress) return "Converting…";
    if (job.status === "cancelling") return "Cancelling…";
    return "";
  }

  function setHidden(el, selector, hidden) {
    const node = el.querySelector(selector);
    if (node) node.hidden = hidden;
    return node;
  }

  function render(el, job) {
    el.dataset.state = job.status;
    const finished = FINISHED.includes(job.status);
    const badge = el.querySelector("[data-status]");
    if (badge) {
      badge.textContent = job.status_label;
      badge.className = "status status-" + job.status;
    }
    const error = setHidden(el, "[data-error]", !job.error);
    if (error) error.textContent = job.error || "";
    const label = setHidden(el, "[data-label]", !job.label);
    if (label) label.textContent = job.label || "";
    const ranOn = setHidden(el, "[data-ran-on]", !job.worker);
    if (ranOn && job.worker) {
      ranOn.textContent = "Worker: " + job.worker + (job.worker_device ? " on " + job.worker_device : "") + ".";
    }
    // A bar only once there is progress to show: a fast job goes from its queue place to
    // "Converting…" to its result, never through an empty bar.
    const progress = setHidden(el, "[data-progress]", job.status !== "running" || !job.progress);
    if (progress) progress.value = job.progress;
    const jobNote = el.querySelector("[data-job-note]");
    if (jobNote) jobNote.textContent = note(job);
    const detail = el.querySelector("[data-progress-detail]");
    if (detail) detail.textContent = finished ? "" : job.progress_detail || "";
    setHidden(el, "[data-cancel]", finished || job.status === "cancelling");

    const isDetail = el.hasAttribute("data-detail");
    if (job.status === "succeeded") {
      showImage(el, isDetail ? job.result_url : job.thumbnail_url,
                isDetail ? "data-result" : "data-thumbnail", "Converted image");
      setHidden(el, "[data-download]", false);
      setHidden(el, "[data-latent]", !job.latent_url);  // a StyleGAN2 projection's latent
      const size = el.querySelector("[data-result-size]");
      if (size && job.result_width) size.textContent = "· " + job.result_width + "×" + job.result_height;
      const timing = el.querySelector("[data-timing]");
      if (timing && job.run_seconds) timing.textContent = "Converted in " + job.run_seconds.toFixed(2) + " s.";
    } else if (isDetail && job.intermediate_url) {
      // The same URL serves a newer image at each step: a changing query asks for it afresh.
      showImage(el, job.intermediate_url + "?v=" + encodeURIComponent(job.progress_detail || job.progress),
                "data-intermediate", "The image so far");
    } else if (job.status === "failed" || job.status === "cancelled") {
      const placeholder = el.querySelector("[data-placeholder]");
      if (placeholder) placeholder.textContent = "✕";
    }
    return finished;
  }

  async function poll(el) {
    try {
      const response = await fetch(el.dataset.statusUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      if (response.status === 404) return;  // deleted elsewhere: stop quietly
      if (response.ok && render(el, await response.json())) return;
    } catch (e) { /* network blip: try again */ }
    setTimeout(() => poll(el), POLL_MS);
  }

  document.querySelectorAll("[data-conversion]").forEach((el) => {
    if (!FINISHED.includes(el.dataset.state)) poll(el);
  });

  // Cancel on a gallery tile: through the API, and the tile shows the answer in place (the
  // form still posts, and comes back to this page, when the request cannot be made).
  document.querySelectorAll("form[data-cancel-api]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const tile = form.closest("[data-conversion]");
      const token = form.querySelector("[name=csrfmiddlewaretoken]");
      try {
        const response = await fetch(form.dataset.cancelApi, {
          method: "POST", credentials: "same-origin",
          headers: {Accept: "application/json", "X-CSRFToken": token ? token.value : ""},
        });
        if (response.ok || response.status === 409) {
          const answer = await response.json();
          // 409: it had already finished; the tile's own polling shows how.
          if (response.ok && tile) render(tile, answer);
          return;
        }
      } catch (e) { /* fall back to the plain form */ }
      form.submit();
    });
  });

  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();
