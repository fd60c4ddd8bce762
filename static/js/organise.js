// Organising the gallery without reloads where it helps: the star toggles in place, the bulk bar
// counts what is selected and asks before deleting. Without this script every control is a
// plain form that works the same way (a page load each).
(function () {
  "use strict";

  document.querySelectorAll("form[data-favourite]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = form.querySelector("[data-favourite-value]");
      const star = form.querySelector("[data-star]");
      const response = await fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) { form.submit(); return; }  // let the page say what went wrong
      const body = await response.json();
      star.setAttribute("aria-pressed", body.favourite ? "true" : "false");
      star.textContent = body.favourite ? "★" : "☆";
      star.title = body.favourite ? "Remove from favourites" : "Add to favourites";
      value.value = body.favourite ? "0" : "1";
    });
  });

  const bulk = document.querySelector("form[data-bulk]");
  if (!bulk) return;
  const boxes = () => Array.from(document.querySelectorAll("input[data-select]"));
  const count = bulk.querySelector("[data-selected-count]");
  const all = bulk.querySelector("[data-select-all]");
  function update() {
    const n = boxes().filter((box) => box.checked).length;
    count.textContent = n ? n + " selected" : "Select photos below";
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches("input[data-select]")) update();
  });
  if (all) {
    all.hidden = false;
    all.addEventListener("click", () => {
      const every = boxes().every((box) => box.checked);
      boxes().forEach((box) => { box.checked = !every; });
      update();
    });
  }
  bulk.addEventListener("submit", (event) => {
    const n = boxes().filter((box) => box.checked).length;
    if (!n) {
      event.preventDefault();
      count.textContent = "Select at least one photo first.";
    }
  });
  update();
})();
