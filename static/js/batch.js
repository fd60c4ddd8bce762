// The upload page's batch of photos. Without this script the plain <input type=file multiple>
// sends what was chosen; with it, photos chosen in several goes or dropped onto the drop zone
// add up, each listed with its name and size and removable before sending. The list is the
// input's own FileList (rebuilt through a DataTransfer), so the form posts exactly what it shows.
(function () {
  "use strict";
  const input = document.querySelector("[data-batch-input]");
  const zone = document.querySelector("[data-drop-zone]");
  const list = document.querySelector("[data-batch-files]");
  const count = document.querySelector("[data-batch-count]");
  if (!input || !zone || !list || typeof DataTransfer === "undefined") return;
  const ACCEPTED = (input.getAttribute("accept") || "").split(",");
  let files = Array.from(input.files);

  function size(bytes) {
    if (bytes < 1024 * 1024) return Math.max(1, Math.round(bytes / 1024)) + " KB";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function sameFile(a, b) {
    return a.name === b.name && a.size === b.size && a.lastModified === b.lastModified;
  }

  function sync() {
    const transfer = new DataTransfer();
    files.forEach((file) => transfer.items.add(file));
    input.files = transfer.files;  // setting it fires no change event: no loop
    list.replaceChildren(...files.map((file, index) => {
      const item = document.createElement("li");
      item.dataset.batchFile = file.name;
      const name = document.createElement("span");
      name.className = "batch-file-name";
      name.textContent = file.name;
      const bytes = document.createElement("span");
      bytes.className = "muted";
      bytes.textContent = size(file.size);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button small secondary";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove " + file.name);
      remove.addEventListener("click", () => { files.splice(index, 1); sync(); input.focus(); });
      item.append(name, bytes, remove);
      return item;
    }));
    list.hidden = files.length === 0;
    updateCount();
  }

  function add(incoming) {
    Array.from(incoming).forEach((file) => {
      if (!files.some((known) => sameFile(known, file))) files.push(file);
    });
    sync();
  }

  function updateCount() {
    if (!count) return;
    const models = document.querySelectorAll("[data-batch-model]:checked").length;
    const photos = files.length;
    count.textContent = photos && models
      ? photos + " photo" + (photos === 1 ? "" : "s") + " × " + models + " model" + (models === 1 ? "" : "s") +
        " = " + photos * models + " conversion" + (photos * models === 1 ? "" : "s")
      : "";
  }

  input.addEventListener("change", () => {
    // The browser replaced the input's files with the new choice: add it to what was there.
    const chosen = Array.from(input.files);
    files = files.filter((known) => !chosen.some((file) => sameFile(known, file)));
    add(chosen);
  });
  zone.querySelector("[data-drop-hint]").hidden = false;
  ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.add("drop-zone-over");
  }));
  zone.addEventListener("dragleave", () => zone.classList.remove("drop-zone-over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("drop-zone-over");
    // Only images: a dropped folder or text is left out (the server checks every file anyway).
    const dropped = Array.from(event.dataTransfer ? event.dataTransfer.files : [])
      .filter((file) => !file.type || ACCEPTED.includes(file.type));
    add(dropped);
  });
  document.querySelectorAll("[data-batch-model]").forEach((box) => box.addEventListener("change", updateCount));
  sync();
})();
