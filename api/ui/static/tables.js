// Sortable tables (header buttons, keyboard reachable) and a type-to-filter box.
(function () {
  "use strict";
  function value(row, key, kind) {
    const td = row.querySelector('td[data-key="' + key + '"]');
    if (!td) return null;
    const raw = td.dataset.value !== undefined ? td.dataset.value : td.textContent.trim();
    if (kind === "number") return raw === "" ? null : Number(raw);
    return raw.toLowerCase();
  }

  function sortBy(table, button) {
    const th = button.closest("th");
    const ascending = th.getAttribute("aria-sort") !== "ascending";
    for (const other of table.querySelectorAll("thead th")) other.setAttribute("aria-sort", "none");
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const { key, kind } = button.dataset;
    rows.sort((a, b) => {
      const x = value(a, key, kind), y = value(b, key, kind);
      if (x === y) return 0;
      if (x === null) return 1;  // blanks last either way
      if (y === null) return -1;
      return (x < y ? -1 : 1) * (ascending ? 1 : -1);
    });
    body.append(...rows);
  }

  for (const table of document.querySelectorAll("table.sortable")) {
    for (const button of table.querySelectorAll("button.sort")) {
      button.addEventListener("click", () => sortBy(table, button));
    }
  }

  for (const input of document.querySelectorAll("input[data-table]")) {
    const table = document.getElementById(input.dataset.table);
    const counter = document.getElementById("shown-count");
    input.addEventListener("input", () => {
      const needle = input.value.trim().toLowerCase();
      let shown = 0;
      for (const row of table.tBodies[0].rows) {
        const hit = !needle || row.textContent.toLowerCase().includes(needle);
        row.hidden = !hit;
        if (hit) shown += 1;
      }
      if (counter) counter.textContent = String(shown);
    });
  }
})();

// Filter forms submit only the fields that are set, so shared URLs stay short.
(function () {
  "use strict";
  for (const form of document.querySelectorAll('form.controls[method="get"]')) {
    form.addEventListener("submit", () => {
      for (const field of form.elements) {
        if (field.name && field.value === "" && !field.disabled) field.disabled = true;
      }
      window.setTimeout(() => {
        for (const field of form.elements) field.disabled = false;
      }, 0);
    });
  }
})();
