/* ecr-audit report tables, drawn by DataTables (from the itables package, inlined before this
   script as ecrAuditDataTables): sort, filter, page, Copy and CSV are DataTables' and its Buttons
   extension's. This script decodes the rows written by ecr_audit.report.html (dictionary-coded
   columns in <script type="application/json"> blocks), hands them to DataTables as arrays, and
   says how each kind of column shows, sorts, filters and exports.

   Every value is text from an AWS account, never markup: DataTables writes a cell's display
   value as HTML, so that value is always DataTables' own text renderer's output (escaped), and
   the cells that show more than text (a severity badge, a folded policy with a Copy button, a
   list, a shaded count) are then rebuilt with textContent. Opening the file with "#print" in its
   address (what `ecr-audit report --pdf` does), or printing from the browser, shows up to
   PRINT_ROWS rows of each table, in the order on screen, with lists and policies unfolded. */
(function () {
  "use strict";
  document.documentElement.setAttribute("data-ea-script-start-ms", String(Math.round(performance.now())));

  var SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
  var PAGE_SIZES = [25, 100, 500];
  var FOLD_CHARACTERS = 360;
  var FOLD_ITEMS = 6;
  var PRINT_ROWS = 200;
  var errorBox = document.getElementById("ea-script-errors");

  function showError(text) {
    if (!errorBox) { return; }
    errorBox.hidden = false;
    var item = document.createElement("li");
    item.textContent = text;
    errorBox.querySelector("ul").appendChild(item);
  }

  window.addEventListener("error", function (event) {
    showError(String(event.message || "script error") + (event.lineno ? " (line " + event.lineno + ")" : ""));
  });

  var printMode = window.location.hash === "#print";

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function decodeColumn(column, rows) {
    if (column.v) { return column.v; }
    var values = new Array(rows);
    var i;
    if (column.ld) {
      var item = function (code) { return column.ld[code]; };
      for (i = 0; i < rows; i += 1) { values[i] = column.lc[i] === null ? null : column.lc[i].map(item); }
      return values;
    }
    for (i = 0; i < rows; i += 1) { values[i] = column.d[column.c[i]]; }
    return values;
  }

  function heatParts(value) {
    var parts = Array.isArray(value) ? value : [Number(value) || 0, 0, 0];
    return [parts[0] || 0, parts[1] || 0, parts[2] || 0];
  }

  function cellText(value, kind) {
    if (value === null || value === undefined) { return ""; }
    if (kind === "heat") {
      var parts = heatParts(value);
      var text = String(parts[0]);
      if (parts[1]) { text += " +" + parts[1] + " conditional"; }
      if (parts[2]) { text += " +" + parts[2] + " partial"; }
      return text;
    }
    if (Array.isArray(value)) { return value.join("\n"); }
    return String(value);
  }

  /* What DataTables orders a column by: severities by rank, counts as numbers, a heat cell by its
     full count, then its conditional and partial ones. */
  function orderValue(value, kind) {
    if (kind === "severity") {
      return Object.prototype.hasOwnProperty.call(SEVERITY_RANK, value) ? SEVERITY_RANK[value] : 9;
    }
    if (kind === "number") { return value === null || value === undefined ? -Infinity : Number(value); }
    if (kind === "heat") {
      var parts = heatParts(value);
      return parts[0] * 1e12 + parts[1] * 1e6 + parts[2];
    }
    return cellText(value, kind).toLowerCase();
  }

  function numeric(kind) { return kind === "number" || kind === "heat"; }

  /* A column filter: "5", ">0", "<=3" compare on numeric columns (a search function, which
     DataTables accepts in place of a string); anything else is DataTables' own text search. */
  function columnSearch(text, kind) {
    var wanted = text.trim();
    var comparison = /^(<=|>=|<|>|=)?\s*(-?\d+(?:\.\d+)?)$/.exec(wanted);
    if (!comparison || !numeric(kind)) { return wanted; }
    var operator = comparison[1] || "=";
    var bound = Number(comparison[2]);
    return function (searchText) {
      var number = parseFloat(searchText);
      if (isNaN(number)) { return false; }
      if (operator === "<") { return number < bound; }
      if (operator === "<=") { return number <= bound; }
      if (operator === ">") { return number > bound; }
      if (operator === ">=") { return number >= bound; }
      return number === bound;
    };
  }

  /* A spreadsheet reads a cell starting with = + - @ (or a tab, a CR) as a formula: IAM names may
     start so. OWASP's CSV-injection advice: a leading single quote makes it text. What Copy and
     CSV export (DataTables Buttons, orthogonal data "export") take from each cell. */
  function spreadsheetSafe(text) {
    return /^[=+\-@\t\r]/.test(text) ? "'" + text : text;
  }

  /* Copy text to the clipboard; the button says whether it worked. */
  function copyText(text, button) {
    function done(ok) {
      var label = button.textContent;
      button.textContent = ok ? "Copied" : "Copy failed";
      setTimeout(function () { button.textContent = label; }, 1500);
    }
    function fallback() {
      var area = make("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (error) { ok = false; }
      document.body.removeChild(area);
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }

  /* A remediation is a sentence and, often, a policy: the sentence shown, the JSON folded with a
     button that copies it whole. */
  function splitCode(text) {
    var match = /\n\s*[\[{]/.exec(text);
    if (!match || match.index === 0) { return [null, text]; }
    return [text.slice(0, match.index).trim(), text.slice(match.index + 1)];
  }

  function copyButton(getText) {
    var button = make("button", "ea-button ea-copy-cell", "Copy");
    button.type = "button";
    button.title = "Copy the whole text";
    button.addEventListener("click", function (event) { event.preventDefault(); copyText(getText(), button); });
    return button;
  }

  /* The cells that show more than their text, rebuilt from text nodes once DataTables creates them. */
  function fillCell(cell, value, column, heatMaximum) {
    if (column.kind === "severity") {
      var known = Object.prototype.hasOwnProperty.call(SEVERITY_RANK, value);
      cell.textContent = "";
      cell.appendChild(make("span", "ea-sev ea-sev-" + (known ? value : "unknown"), String(value)));
    } else if (column.kind === "code") {
      var split = splitCode(cellText(value, column.kind));
      var code = split[1];
      cell.textContent = "";
      if (split[0]) { cell.appendChild(make("p", "ea-code-line", split[0])); }
      if (split[0] || code.length > FOLD_CHARACTERS) {
        var details = make("details");
        var summary = make("summary", null, split[0] ? "Policy JSON " : code.split("\n")[0].slice(0, 80) + " \u2026 ");
        summary.appendChild(copyButton(function () { return code; }));
        details.appendChild(summary);
        details.appendChild(make("pre", null, code));
        details.open = printMode;
        cell.appendChild(details);
      } else if (code) {
        cell.appendChild(make("pre", null, code));
      }
    } else if (column.kind === "heat") {
      var parts = heatParts(value);
      var strength = parts[0] ? 0.15 + 0.75 * parts[0] / (heatMaximum || 1) : 0;
      if (strength) {
        cell.style.backgroundColor = "rgba(31, 94, 168, " + strength.toFixed(2) + ")";
        if (strength > 0.55) { cell.style.color = "#fff"; }
      } else {
        cell.classList.add(parts[1] ? "ea-heat-conditional" : parts[2] ? "ea-heat-partial" : "ea-heat-none");
      }
    } else if (column.kind === "list" && Array.isArray(value)) {
      var holder = cell;
      cell.textContent = "";
      if (value.length > FOLD_ITEMS) {
        holder = make("details");
        holder.appendChild(make("summary", null, value.length + " " + (column.label || "items").toLowerCase()));
        holder.open = printMode;
        cell.appendChild(holder);
      }
      value.forEach(function (item, position) {
        if (position) { holder.appendChild(make("br")); }
        holder.appendChild(document.createTextNode(String(item)));
      });
    }
  }

  var library = window.ecrAuditDataTables;
  var DataTable = library && library["default"];
  var escapedText = DataTable && DataTable.render.text().display;

  function columnOptions(column, index, heatMaxima) {
    var kind = column.kind;
    return {
      className: "ea-k-" + kind + " ea-c-" + column.key,
      type: numeric(kind) ? "num" : "string",
      orderSequence: numeric(kind) ? ["desc", "asc"] : ["asc", "desc"],
      render: function (value, type) {
        if (type === "sort" || type === "type") { return orderValue(value, kind); }
        if (type === "filter") {  /* a heat cell's full count first: what ">0" compares */
          return kind === "heat" ? heatParts(value)[0] + " " + cellText(value, kind) : cellText(value, kind);
        }
        if (type === "export") { return spreadsheetSafe(cellText(value, kind)); }
        return escapedText(cellText(value, kind));
      },
      createdCell: function (cell, value) {
        cell.setAttribute("data-label", column.label);
        if (value !== null && value !== undefined && kind !== "text" && kind !== "number" && kind !== "level") {
          fillCell(cell, value, column, heatMaxima[index]);
        }
      }
    };
  }

  /* Copy and CSV: every filtered row in the order shown, each cell as text ("export" above), the
     column titles as the one header row (not the filter row under them). */
  function exportOptions(stripNewlines) {
    return { orthogonal: "export", stripHtml: false, decodeEntities: false, trim: false, stripNewlines: stripNewlines,
             modifier: { search: "applied", order: "applied", page: "all" },
             customizeData: function (data) { data.headerStructure = data.headerStructure.slice(0, 1); } };
  }

  function buildTable(container, spec) {
    var values = spec.data.map(function (column) { return decodeColumn(column, spec.rows); });
    var rows = new Array(spec.rows);
    for (var r = 0; r < spec.rows; r += 1) {
      var row = new Array(values.length);
      for (var c = 0; c < values.length; c += 1) { row[c] = values[c][r]; }
      rows[r] = row;
    }
    var heatMaxima = spec.columns.map(function (column, index) {
      if (column.kind !== "heat") { return 0; }
      return values[index].reduce(function (most, value) { return Math.max(most, heatParts(value)[0]); }, 0);
    });

    var table = make("table", "ea-interactive compact");
    var head = make("thead");
    var titles = make("tr");
    var filters = make("tr", "ea-filters");
    spec.columns.forEach(function (column) {
      var th = make("th", null, column.label);
      if (column.title) { th.title = column.title; }
      titles.appendChild(th);
      var filterCell = make("th");
      filterCell.setAttribute("data-dt-order", "disable");
      var input = make("input");
      input.type = "search";
      input.placeholder = numeric(column.kind) ? "filter: 5, >0" : "filter";
      input.setAttribute("aria-label", "Filter " + column.label);
      filterCell.appendChild(input);
      filters.appendChild(filterCell);
    });
    head.appendChild(titles);
    head.appendChild(filters);
    table.appendChild(head);

    var fallback = Array.prototype.slice.call(container.childNodes);
    container.textContent = "";
    container.appendChild(table);
    var pageLength = printMode ? PRINT_ROWS : (spec.pageSize || 25);
    var sizes = PAGE_SIZES.indexOf(pageLength) === -1 ? [pageLength].concat(PAGE_SIZES) : PAGE_SIZES;
    var order = [];
    if (spec.sort) {
      var sortIndex = spec.columns.findIndex(function (column) { return column.key === spec.sort[0]; });
      if (sortIndex >= 0) { order = [[sortIndex, spec.sort[1] === "desc" ? "desc" : "asc"]]; }
    }
    var name = (spec.name || "table").replace(/[^A-Za-z0-9._-]+/g, "-");
    var api;
    try {
      api = new DataTable(table, {
        data: rows,
        columns: spec.columns.map(function (column, index) { return columnOptions(column, index, heatMaxima); }),
        deferRender: true,
        titleRow: 0,
        autoWidth: false,
        order: order,
        pageLength: pageLength,
        lengthMenu: sizes.concat([{ label: "all", value: -1 }]),
        layout: {
          topStart: "info",
          topEnd: { buttons: [
            { extend: "copyHtml5", text: "Copy", titleAttr: "Copy the filtered rows as tab-separated text", title: null,
              exportOptions: exportOptions(true) },
            { extend: "csvHtml5", text: "CSV", titleAttr: "Download the filtered rows as CSV", title: null,
              filename: name, extension: ".csv", bom: true, exportOptions: exportOptions(false) }
          ], pageLength: {} },
          bottomStart: null,
          bottomEnd: "paging"
        },
        language: {
          info: "Rows _START_\u2013_END_ of _TOTAL_",
          infoFiltered: "(filtered from _MAX_)",
          infoEmpty: "No rows match",
          infoPostFix: printMode && spec.rows > PRINT_ROWS ? "; the HTML report has every row" : "",
          zeroRecords: "No rows match",
          emptyTable: "Nothing to show.",
          lengthMenu: "Rows per page _MENU_"
        }
      });
    } catch (error) {
      container.textContent = "";
      fallback.forEach(function (node) { container.appendChild(node); });
      throw error;
    }

    Array.prototype.forEach.call(filters.querySelectorAll("input"), function (input, index) {
      var timer = null;
      input.addEventListener("click", function (event) { event.stopPropagation(); });
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          api.column(index).search(columnSearch(input.value, spec.columns[index].kind)).draw();
        }, 120);
      });
    });
    var scroll = make("div", "ea-scroll");
    table.parentNode.insertBefore(scroll, table);
    scroll.appendChild(table);
    container.setAttribute("data-ea-rows", String(spec.rows));
    return api;
  }

  /* The causes section's Copy buttons: the JSON of the fix folded next to them. */
  Array.prototype.forEach.call(document.querySelectorAll("button.ea-copy"), function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var pre = button.closest("details").querySelector("pre");
      copyText(pre ? pre.textContent : "", button);
    });
  });

  var tables = [];
  var containers = document.querySelectorAll("[data-ea-table]");
  Array.prototype.forEach.call(containers, function (container) {
    try {
      if (!DataTable) { throw new Error("DataTables did not load"); }
      var source = document.getElementById(container.getAttribute("data-ea-table"));
      tables.push(buildTable(container, JSON.parse(source.textContent)));
    } catch (error) {
      showError("table " + container.id + ": " + (error && error.message ? error.message : error));
    }
  });

  function unfold() {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (node) { node.open = true; });
  }

  var savedPages = null;
  window.addEventListener("beforeprint", function () {
    savedPages = tables.map(function (api) { return [api.page.len(), api.page()]; });
    tables.forEach(function (api) { api.page.len(PRINT_ROWS).draw(false); });
    unfold();
  });
  window.addEventListener("afterprint", function () {
    if (!savedPages) { return; }
    tables.forEach(function (api, index) {
      api.page.len(savedPages[index][0]).page(savedPages[index][1]).draw(false);
    });
    savedPages = null;
  });

  document.documentElement.setAttribute("data-ea-tables", String(tables.length));
  /* when the page became usable: every table built (benchmarks and browser tests read it) */
  document.documentElement.setAttribute("data-ea-ready-ms", String(Math.round(performance.now())));
}());
