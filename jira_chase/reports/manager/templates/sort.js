document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute("data-dir") !== "asc", num = th.getAttribute("data-type") === "num";
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-sort") || a.cells[col].textContent.trim();
        var y = b.cells[col].getAttribute("data-sort") || b.cells[col].textContent.trim();
        var r = num ? Number(x) - Number(y) : x.localeCompare(y, undefined, {numeric: true});
        return asc ? r : -r;
      });
      th.setAttribute("data-dir", asc ? "asc" : "desc");
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
