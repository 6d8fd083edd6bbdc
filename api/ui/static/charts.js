// Draw every chart of the page from the figure JSON the server embedded beside it.
(function () {
  "use strict";
  const config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["toImage"] };
  for (const el of document.querySelectorAll(".chart[data-figure]")) {
    const spec = JSON.parse(document.getElementById(el.dataset.figure).textContent);
    if (!spec.data.length) continue;
    Plotly.newPlot(el, spec.data, spec.layout, config).then(() => {
      el.dataset.drawn = "true";
    });
  }
})();
