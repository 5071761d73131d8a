/* ecr-audit report tables: sort, filter per column, page, copy and CSV export.

   The rows come from <script type="application/json"> blocks written by ecr_audit.report.html.
   Every cell is built with textContent: the data is text from an AWS account, never markup.
   Opening the file with "#print" in its address (what `ecr-audit report --pdf` does), or
   printing from the browser, shows up to PRINT_ROWS rows of each table, in the order on screen,
   with lists and policies unfolded: a large account's tables run to thousands of rows, which
   the HTML file keeps and a printout cannot. */
(function () {
  "use strict";
  document.documentElement.setAttribute("data-ea-script-start-ms", String(Math.round(performance.now())));

  var SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
  var PAGE_SIZES = [25, 100, 500, Infinity];
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

  function sortKey(value, kind) {
    if (kind === "severity") {
      return Object.prototype.hasOwnProperty.call(SEVERITY_RANK, value) ? SEVERITY_RANK[value] : 9;
    }
    if (kind === "number") { return value === null || value === undefined ? -Infinity : Number(value); }
    if (kind === "heat") { return heatParts(value); }
    return cellText(value, kind).toLowerCase();
  }

  function compareKeys(a, b) {
    if (Array.isArray(a)) {
      for (var i = 0; i < a.length; i += 1) {
        if (a[i] !== b[i]) { return a[i] < b[i] ? -1 : 1; }
      }
      return 0;
    }
    if (a === b) { return 0; }
    return a < b ? -1 : 1;
  }

  /* "5", ">0", "<=3": numeric columns compare; anything else is a case-insensitive substring. */
  function makeFilter(text, kind) {
    var wanted = text.trim().toLowerCase();
    if (!wanted) { return null; }
    var numeric = /^(<=|>=|<|>|=)?\s*(-?\d+(?:\.\d+)?)$/.exec(wanted);
    if (numeric && (kind === "number" || kind === "heat")) {
      var operator = numeric[1] || "=";
      var bound = Number(numeric[2]);
      return function (value) {
        var number = kind === "heat" ? heatParts(value)[0] : Number(value);
        if (value === null || value === undefined || isNaN(number)) { return false; }
        if (operator === "<") { return number < bound; }
        if (operator === "<=") { return number <= bound; }
        if (operator === ">") { return number > bound; }
        if (operator === ">=") { return number >= bound; }
        return number === bound;
      };
    }
    return function (value) { return cellText(value, kind).toLowerCase().indexOf(wanted) !== -1; };
  }

  /* A spreadsheet reads a cell starting with = + - @ (or a tab, a CR) as a formula: IAM names may
     start so. OWASP's CSV-injection advice: a leading single quote makes it text. CSV export and
     Copy (tab-separated, pasted into spreadsheets) both go through here. */
  function spreadsheetSafe(text) {
    return /^[=+\-@\t\r]/.test(text) ? "'" + text : text;
  }

  function csvCell(text) {
    return "\"" + spreadsheetSafe(text).replace(/"/g, "\"\"") + "\"";
  }

  function Table(container, spec) {
    this.container = container;
    this.spec = spec;
    this.columns = spec.columns;
    this.values = spec.data.map(function (column) { return decodeColumn(column, spec.rows); });
    this.filters = this.columns.map(function () { return null; });
    this.sortColumn = -1;
    this.sortDirection = 1;
    this.pageSize = printMode ? PRINT_ROWS : (spec.pageSize || 25);
    this.page = 0;
    this.printing = printMode;
    this.order = [];
    this.build();
    if (spec.sort) {
      var index = this.columns.findIndex(function (column) { return column.key === spec.sort[0]; });
      if (index >= 0) { this.sortColumn = index; this.sortDirection = spec.sort[1] === "desc" ? -1 : 1; }
    }
    this.refresh();
  }

  Table.prototype.build = function () {
    var self = this;
    var toolbar = make("div", "ea-toolbar");
    this.countLabel = make("span", "ea-count");
    toolbar.appendChild(this.countLabel);
    var copyButton = make("button", "ea-button", "Copy");
    copyButton.type = "button";
    copyButton.title = "Copy the filtered rows as tab-separated text";
    copyButton.addEventListener("click", function () { self.copy(copyButton); });
    var csvButton = make("button", "ea-button", "CSV");
    csvButton.type = "button";
    csvButton.title = "Download the filtered rows as CSV";
    csvButton.addEventListener("click", function () { self.download(); });
    var sizeLabel = make("label", "ea-page-size", "Rows per page ");
    this.sizeSelect = make("select");
    PAGE_SIZES.forEach(function (size) {
      var option = make("option", null, size === Infinity ? "all" : String(size));
      option.value = String(size);
      self.sizeSelect.appendChild(option);
    });
    this.sizeSelect.value = String(this.pageSize);
    if (this.sizeSelect.value !== String(this.pageSize)) {
      var custom = make("option", null, String(this.pageSize));
      custom.value = String(this.pageSize);
      this.sizeSelect.insertBefore(custom, this.sizeSelect.firstChild);
      this.sizeSelect.value = String(this.pageSize);
    }
    this.sizeSelect.addEventListener("change", function () {
      self.pageSize = Number(self.sizeSelect.value);
      self.page = 0;
      self.render();
    });
    sizeLabel.appendChild(this.sizeSelect);
    toolbar.appendChild(copyButton);
    toolbar.appendChild(csvButton);
    toolbar.appendChild(sizeLabel);

    var table = make("table", "ea-interactive");
    var head = make("thead");
    var titles = make("tr");
    var filters = make("tr", "ea-filters");
    this.headers = [];
    this.columns.forEach(function (column, index) {
      var th = make("th", "ea-k-" + column.kind + " ea-c-" + column.key);
      var button = make("button", "ea-sort", column.label);
      button.type = "button";
      if (column.title) { button.title = column.title; }
      button.addEventListener("click", function () { self.sortBy(index); });
      th.appendChild(button);
      titles.appendChild(th);
      self.headers.push(th);
      var filterCell = make("th");
      var input = make("input");
      input.type = "search";
      input.placeholder = column.kind === "number" || column.kind === "heat" ? "filter: 5, >0" : "filter";
      input.setAttribute("aria-label", "Filter " + column.label);
      var timer = null;
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          self.filters[index] = makeFilter(input.value, column.kind);
          self.page = 0;
          self.refresh();
        }, 120);
      });
      filterCell.appendChild(input);
      filters.appendChild(filterCell);
    });
    head.appendChild(titles);
    head.appendChild(filters);
    table.appendChild(head);
    this.body = make("tbody");
    table.appendChild(this.body);

    var pager = make("div", "ea-pager");
    this.previous = make("button", "ea-button", "\u2039 Previous");
    this.previous.type = "button";
    this.previous.addEventListener("click", function () { self.page -= 1; self.render(); });
    this.pageLabel = make("span", "ea-page");
    this.next = make("button", "ea-button", "Next \u203a");
    this.next.type = "button";
    this.next.addEventListener("click", function () { self.page += 1; self.render(); });
    pager.appendChild(this.previous);
    pager.appendChild(this.pageLabel);
    pager.appendChild(this.next);

    var scroll = make("div", "ea-scroll");
    scroll.appendChild(table);
    this.container.textContent = "";
    this.container.appendChild(toolbar);
    this.container.appendChild(scroll);
    this.container.appendChild(pager);
    this.container.setAttribute("data-ea-rows", String(this.spec.rows));
    this.heatMaxima = this.columns.map(function (column, index) {
      if (column.kind !== "heat") { return 0; }
      return self.values[index].reduce(function (most, value) { return Math.max(most, heatParts(value)[0]); }, 0);
    });
  };

  Table.prototype.sortBy = function (index) {
    if (this.sortColumn === index) { this.sortDirection = -this.sortDirection; } else {
      this.sortColumn = index;
      var kind = this.columns[index].kind;
      this.sortDirection = kind === "number" || kind === "heat" ? -1 : 1;
    }
    this.page = 0;
    this.refresh();
  };

  Table.prototype.refresh = function () {
    var self = this;
    var active = [];
    this.filters.forEach(function (filter, index) { if (filter) { active.push([index, filter]); } });
    var order = [];
    for (var row = 0; row < this.spec.rows; row += 1) {
      var keep = true;
      for (var f = 0; f < active.length && keep; f += 1) {
        keep = active[f][1](this.values[active[f][0]][row]);
      }
      if (keep) { order.push(row); }
    }
    if (this.sortColumn >= 0) {
      var column = this.sortColumn;
      var kind = this.columns[column].kind;
      var keys = {};
      order.forEach(function (rowIndex) { keys[rowIndex] = sortKey(self.values[column][rowIndex], kind); });
      var direction = this.sortDirection;
      order.sort(function (a, b) { return direction * compareKeys(keys[a], keys[b]) || a - b; });
    }
    this.order = order;
    this.headers.forEach(function (th, index) {
      th.setAttribute("aria-sort", index !== self.sortColumn ? "none"
        : (self.sortDirection === 1 ? "ascending" : "descending"));
    });
    this.render();
  };

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

  Table.prototype.renderCell = function (value, column, index) {
    var cell = make("td", "ea-k-" + column.kind + " ea-c-" + column.key);
    cell.setAttribute("data-label", column.label);
    if (value === null || value === undefined) { return cell; }
    if (column.kind === "severity") {
      var known = Object.prototype.hasOwnProperty.call(SEVERITY_RANK, value);
      cell.appendChild(make("span", "ea-sev ea-sev-" + (known ? value : "unknown"), String(value)));
    } else if (column.kind === "code") {
      var text = cellText(value, column.kind);
      var split = splitCode(text);
      if (split[0]) { cell.appendChild(make("p", "ea-code-line", split[0])); }
      var code = split[1];
      if (split[0] || (!this.printing && code.length > FOLD_CHARACTERS)) {
        var details = make("details");
        var summary = make("summary", null, split[0] ? "Policy JSON " : code.split("\n")[0].slice(0, 80) + " \u2026 ");
        summary.appendChild(copyButton(function () { return code; }));
        details.appendChild(summary);
        details.appendChild(make("pre", null, code));
        if (this.printing) { details.open = true; }
        cell.appendChild(details);
      } else if (code) {
        cell.appendChild(make("pre", null, code));
      }
    } else if (column.kind === "heat") {
      var parts = heatParts(value);
      var maximum = this.heatMaxima[index] || 1;
      var strength = parts[0] ? 0.15 + 0.75 * parts[0] / maximum : 0;
      cell.textContent = cellText(value, column.kind);
      if (strength) {
        cell.style.backgroundColor = "rgba(31, 94, 168, " + strength.toFixed(2) + ")";
        if (strength > 0.55) { cell.style.color = "#fff"; }
      } else if (parts[1]) {
        cell.className += " ea-heat-conditional";
      } else if (parts[2]) {
        cell.className += " ea-heat-partial";
      } else {
        cell.className += " ea-heat-none";
      }
    } else if (column.kind === "list" && Array.isArray(value)) {
      var holder = cell;
      if (!this.printing && value.length > FOLD_ITEMS) {
        holder = make("details");
        holder.appendChild(make("summary", null, value.length + " " + (column.label || "items").toLowerCase()));
        cell.appendChild(holder);
      }
      value.forEach(function (item, position) {
        if (position) { holder.appendChild(make("br")); }
        holder.appendChild(document.createTextNode(String(item)));
      });
    } else {
      cell.textContent = cellText(value, column.kind);
    }
    return cell;
  };

  Table.prototype.render = function () {
    var self = this;
    var total = this.order.length;
    var size = this.pageSize;
    var pages = size === Infinity ? 1 : Math.max(1, Math.ceil(total / size));
    this.page = Math.min(Math.max(this.page, 0), pages - 1);
    var start = size === Infinity ? 0 : this.page * size;
    var end = size === Infinity ? total : Math.min(total, start + size);
    var fragment = document.createDocumentFragment();
    for (var position = start; position < end; position += 1) {
      var row = this.order[position];
      var tr = make("tr");
      for (var c = 0; c < this.columns.length; c += 1) {
        tr.appendChild(self.renderCell(this.values[c][row], this.columns[c], c));
      }
      fragment.appendChild(tr);
    }
    this.body.textContent = "";
    this.body.appendChild(fragment);
    var filtered = total === this.spec.rows ? "" : " (filtered from " + this.spec.rows + ")";
    this.countLabel.textContent = total
      ? "Rows " + (start + 1) + "\u2013" + end + " of " + total + filtered
        + (this.printing && end < total ? "; the HTML report has every row" : "")
      : "No rows match" + filtered;
    this.pageLabel.textContent = "Page " + (this.page + 1) + " of " + pages;
    this.previous.disabled = this.page === 0;
    this.next.disabled = this.page >= pages - 1;
  };

  Table.prototype.rowsAsText = function () {
    var self = this;
    var lines = [this.columns.map(function (column) { return column.label; })];
    this.order.forEach(function (row) {
      lines.push(self.columns.map(function (column, index) { return cellText(self.values[index][row], column.kind); }));
    });
    return lines;
  };

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

  Table.prototype.copy = function (button) {
    var text = this.rowsAsText().map(function (cells) {
      return cells.map(function (cell) { return spreadsheetSafe(cell).replace(/[\t\n\r]+/g, " "); }).join("\t");
    }).join("\n");
    copyText(text, button);
  };

  /* The causes section's Copy buttons: the JSON of the fix folded next to them. */
  Array.prototype.forEach.call(document.querySelectorAll("button.ea-copy"), function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var pre = button.closest("details").querySelector("pre");
      copyText(pre ? pre.textContent : "", button);
    });
  });

  Table.prototype.download = function () {
    var csv = this.rowsAsText().map(function (cells) { return cells.map(csvCell).join(","); }).join("\r\n");
    var blob = new Blob(["\ufeff" + csv], { type: "text/csv;charset=utf-8" });
    var link = make("a");
    link.href = URL.createObjectURL(blob);
    link.download = (this.spec.name || "table").replace(/[^A-Za-z0-9._-]+/g, "-") + ".csv";
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 0);
  };

  var tables = [];
  var containers = document.querySelectorAll("[data-ea-table]");
  Array.prototype.forEach.call(containers, function (container) {
    try {
      var source = document.getElementById(container.getAttribute("data-ea-table"));
      tables.push(new Table(container, JSON.parse(source.textContent)));
    } catch (error) {
      showError("table " + container.id + ": " + (error && error.message ? error.message : error));
    }
  });

  var savedSizes = null;
  window.addEventListener("beforeprint", function () {
    savedSizes = tables.map(function (table) { return [table.pageSize, table.page]; });
    tables.forEach(function (table) {
      table.printing = true;
      table.pageSize = PRINT_ROWS;
      table.page = 0;
      table.render();
    });
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (node) { node.open = true; });
  });
  window.addEventListener("afterprint", function () {
    if (!savedSizes) { return; }
    tables.forEach(function (table, index) {
      table.printing = false;
      table.pageSize = savedSizes[index][0];
      table.page = savedSizes[index][1];
      table.render();
    });
    savedSizes = null;
  });

  document.documentElement.setAttribute("data-ea-tables", String(tables.length));
  /* when the page became usable: every table built (benchmarks and browser tests read it) */
  document.documentElement.setAttribute("data-ea-ready-ms", String(Math.round(performance.now())));
}());

