/* Charts drawn in the browser from data already on the page (vendored Chart.js 4).
 *
 * Any element with data-chart="bar|line|doughnut|pie|hbar" becomes a chart. Its data comes
 * from one of:
 *   data-chart-table="#table-id"  a <table>: the first cell of each body row is the label,
 *                                 every other column is a series (its <th> is the series
 *                                 name; a <th data-chart-skip> column is left out). A cell's
 *                                 number is its data-value attribute, else its text.
 *   data-chart-json='{"labels": [...], "datasets": [{"label": "...", "data": [...]}]}'
 * Options: data-chart-stacked, data-chart-percent (y axis in %), data-chart-title,
 *          data-chart-y2="series name" (that series on a second y axis, e.g. a share in %).
 * The table stays in the page as the accessible fallback; the canvas gets role="img" and
 * the title as its label. Without JavaScript (or without Chart.js) the table is all there is.
 * No inline script: the page needs nothing but <script src> (strict CSP).
 */
(function () {
  "use strict";
  var PALETTE = ["#1d5aa6", "#b3261e", "#2e7d4f", "#c77c02", "#6b4fa3", "#00838f",
                 "#8d6e63", "#c2185b", "#546e7a", "#7cb342", "#f4511e", "#3949ab"];

  function number(cell) {
    var raw = cell.getAttribute("data-value");
    if (raw === null) { raw = (cell.textContent || "").replace(/[,\s%]/g, ""); }
    var n = parseFloat(raw);
    return isNaN(n) ? null : n;
  }

  function fromTable(table) {
    var heads = table.tHead ? Array.prototype.slice.call(table.tHead.rows[0].cells) : [];
    var columns = [];
    heads.forEach(function (th, i) {
      if (i > 0 && !th.hasAttribute("data-chart-skip")) {
        columns.push({ index: i, label: (th.getAttribute("data-chart-label") || th.textContent).trim() });
      }
    });
    var labels = [];
    var datasets = columns.map(function (c) { return { label: c.label, data: [] }; });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        if (row.hasAttribute("data-chart-skip") || row.cells.length < 2) { return; }
        labels.push((row.cells[0].textContent || "").trim());
        columns.forEach(function (c, k) {
          var cell = row.cells[c.index];
          datasets[k].data.push(cell ? number(cell) : null);
        });
      });
    });
    return { labels: labels, datasets: datasets };
  }

  function dataOf(el) {
    var json = el.getAttribute("data-chart-json");
    if (json) { return JSON.parse(json); }
    var sel = el.getAttribute("data-chart-table");
    var table = sel ? document.querySelector(sel) : el.querySelector("table");
    return table ? fromTable(table) : null;
  }

  function draw(el) {
    if (typeof window.Chart === "undefined" || el.getAttribute("data-chart-drawn")) { return; }
    var data = dataOf(el);
    if (!data || !data.labels.length) { return; }
    var kind = el.getAttribute("data-chart") || "bar";
    var round = kind === "doughnut" || kind === "pie";
    var y2 = el.getAttribute("data-chart-y2");
    data.datasets.forEach(function (ds, i) {
      var colour = PALETTE[i % PALETTE.length];
      ds.backgroundColor = round ? data.labels.map(function (_, j) { return PALETTE[j % PALETTE.length]; }) : colour;
      ds.borderColor = round ? "#fff" : colour;
      if (kind === "line") { ds.tension = 0.2; ds.fill = false; } else if (!round) { ds.maxBarThickness = 56; }
      if (y2 && ds.label === y2) { ds.yAxisID = "y2"; ds.type = "line"; ds.borderColor = colour; ds.backgroundColor = colour; }
    });
    var holder = document.createElement("div");
    holder.className = "chart-canvas";
    var canvas = document.createElement("canvas");
    var title = el.getAttribute("data-chart-title") || "";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", title + (title ? ": " : "") + data.labels.join(", "));
    holder.appendChild(canvas);
    if (kind === "hbar") {  // one band per row, however many rows
      holder.style.height = Math.max(180, data.labels.length * (18 + 12 * data.datasets.length) + 70) + "px";
    }
    el.insertBefore(holder, el.firstChild);
    var options = {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: round || data.datasets.length > 1 || el.hasAttribute("data-chart-stacked"),
                           position: "bottom" },
                 title: { display: false } },
    };
    if (!round) {
      var stacked = el.hasAttribute("data-chart-stacked");
      var valueAxis = { beginAtZero: true, stacked: stacked, ticks: { precision: 0 } };
      if (el.hasAttribute("data-chart-percent")) { valueAxis.ticks = { callback: function (v) { return v + "%"; } }; }
      options.scales = { x: { stacked: stacked }, y: valueAxis };
      if (kind === "hbar") { options.indexAxis = "y"; options.scales = { y: { stacked: stacked }, x: valueAxis }; }
      if (y2) { options.scales.y2 = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                                       ticks: { callback: function (v) { return v + "%"; } } }; }
    }
    new window.Chart(canvas, { type: kind === "hbar" ? "bar" : kind, data: data, options: options });
    var table = el.querySelector("details.chart-data");
    if (table) { table.removeAttribute("open"); }  // the chart shows it; the table stays one click away
    el.setAttribute("data-chart-drawn", "1");
    el.classList.add("chart-drawn");
  }

  function drawAll(root) {
    if (typeof window.Chart !== "undefined") {
      window.Chart.defaults.font.family = '"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "Source Han Sans SC", sans-serif';
    }
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-chart]"), draw);
  }

  window.EibCharts = { draw: draw, drawAll: drawAll, fromTable: fromTable };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  document.addEventListener("htmx:afterSwap", function (e) { drawAll(e.target); });
})();
