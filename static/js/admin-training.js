// The add page: choosing a preset shows the form again with its values (no button press needed).
(function () {
  "use strict";
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();

// The training run page refreshes its live panel every few seconds while the run is active.
(function () {
  "use strict";
  const panel = document.getElementById("live-panel");
  if (!panel) return;
  async function refresh() {
    const section = panel.querySelector("[data-refresh]");
    if (!section || section.dataset.refresh !== "1") return;
    try {
      const response = await fetch(panel.dataset.liveUrl, {credentials: "same-origin"});
      if (response.ok) panel.innerHTML = await response.text();
    } catch (e) { /* try again next time */ }
    setTimeout(refresh, 3000);
  }
  setTimeout(refresh, 3000);
})();
