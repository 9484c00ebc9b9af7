// SpreadsheetCoder task pane: plain JS, no build step.
// Three sources of a sheet: an uploaded .xlsx (/v1/sheets + /v1/suggest/xlsx), a pasted range
// (/v1/suggest with the grid), or, inside Excel, the active worksheet through Office.js
// (/v1/suggest with the used range; the chosen formula is written with range.formulas).
// The Check view sends the workbook (the upload, or inside Excel the open document) to /v1/check,
// lists the cells that look like mistakes, marks them in the grid and applies a repair like an insert.
// Office.js is loaded only when the page runs in an Office host (Office adds _host_Info to the URL).
"use strict";

(function () {
  const MAX_GRID_CELLS = 20000; // what the page sends from Office (the service's limit is larger)
  const EXTRA_ROWS = 3, EXTRA_COLS = 2; // empty cells shown past the data: totals go there

  const state = {
    mode: "web", // web | office
    source: null, // "xlsx" | "paste" | "office"
    file: null,
    sheets: [], // [{name, address, values, formulas}]
    sheetIndex: 0,
    selected: null, // {row, col} (1-based, sheet coordinates)
    auth: false,
    limits: null,
    view: "suggest", // suggest | check
    check: null, // {flags: [{cell, sheet, row, col, formula, value, kind, confidence, repair, applied}], active}
  };

  // What each kind of flag (spreadsheetcoder/check/candidates.py CANDIDATE_KINDS) means, in words.
  const KIND_LABELS = {
    range_end: "range ends in the wrong place",
    range_start: "range starts in the wrong place",
    shifted_column: "reference one column off",
    wrong_row: "reference one row off",
    swapped_operands: "operands in the wrong order",
    function_family: "wrong function of a pair (SUM/AVERAGE, MIN/MAX, COUNT/COUNTA)",
    absolute_dropped: "a $ is missing: the reference moved when the formula was copied",
    absolute_added: "an extra $: the reference stayed put when the formula was copied",
    hardcoded: "a typed number where the cells beside it have a formula",
    wrong_sheet: "reference to the wrong sheet",
    inconsistent_formula: "differs from the formulas beside it",
  };

  const $ = (id) => document.getElementById(id);

  function colLetters(col) {
    let s = "";
    while (col > 0) { const m = (col - 1) % 26; s = String.fromCharCode(65 + m) + s; col = Math.floor((col - 1) / 26); }
    return s;
  }
  function a1(row, col) { return colLetters(col) + row; }
  function parseA1(text) {
    const m = /^\$?([A-Za-z]{1,3})\$?(\d+)$/.exec(text);
    if (!m) return null;
    let col = 0;
    for (const ch of m[1].toUpperCase()) col = col * 26 + (ch.charCodeAt(0) - 64);
    return { row: parseInt(m[2], 10), col };
  }

  function setStatus(text, isError) {
    const el = $("status");
    el.textContent = text;
    el.classList.toggle("error", !!isError);
  }

  function headers(json) {
    const h = json ? { "Content-Type": "application/json" } : {};
    const key = $("api-key").value.trim();
    if (key) h["Authorization"] = "Bearer " + key;
    return h;
  }

  async function call(path, options) {
    const response = await fetch(path, options);
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const err = body && body.error ? body.error : { code: String(response.status), message: response.statusText };
      throw new Error(err.message + " (" + err.code + ")");
    }
    return body;
  }

  // ---------------------------------------------------------------- grid

  function currentSheet() { return state.sheets[state.sheetIndex] || null; }

  function renderTabs() {
    const nav = $("sheet-tabs");
    nav.textContent = "";
    if (state.sheets.length < 2) return;
    state.sheets.forEach((sheet, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = sheet.name;
      b.className = i === state.sheetIndex ? "active" : "";
      b.addEventListener("click", () => { state.sheetIndex = i; state.selected = null; renderTabs(); renderGrid(); clearSuggestions(); });
      nav.appendChild(b);
    });
  }

  function renderGrid() {
    const table = $("grid");
    table.textContent = "";
    const sheet = currentSheet();
    if (!sheet) return;
    const origin = parseA1(sheet.address) || { row: 1, col: 1 };
    const rows = sheet.values.length + EXTRA_ROWS;
    const cols = (sheet.values[0] || []).length + EXTRA_COLS;
    const head = table.insertRow();
    head.appendChild(document.createElement("th"));
    for (let j = 0; j < cols; j++) {
      const th = document.createElement("th");
      th.textContent = colLetters(origin.col + j);
      head.appendChild(th);
    }
    for (let i = 0; i < rows; i++) {
      const tr = table.insertRow();
      const th = document.createElement("th");
      th.textContent = String(origin.row + i);
      tr.appendChild(th);
      for (let j = 0; j < cols; j++) {
        const td = tr.insertCell();
        const row = origin.row + i, col = origin.col + j;
        td.dataset.addr = a1(row, col);
        const value = i < sheet.values.length && j < sheet.values[i].length ? sheet.values[i][j] : null;
        const formula = i < sheet.formulas.length && j < sheet.formulas[i].length ? sheet.formulas[i][j] : null;
        const isFormula = typeof formula === "string" && formula.startsWith("=");
        td.textContent = value === null || value === undefined || value === "" ? (isFormula ? formula : "")
          : typeof value === "number" ? String(Number(value.toPrecision(8))) : String(value);
        if (isFormula) { td.classList.add("formula"); td.title = formula; }
        if (typeof value === "number") td.classList.add("num");
        if (sheet.inserted && sheet.inserted[td.dataset.addr]) td.classList.add("inserted");
        const flag = flagAt(sheet.name, row, col);
        if (flag) {
          td.classList.add(flag.applied ? "repaired" : "flagged");
          td.title = (flag.applied ? "repaired: " : "possible mistake: ") + kindLabel(flag) + " — " + flag.repair;
        }
        if (state.selected && state.selected.row === row && state.selected.col === col) td.classList.add("selected");
        td.addEventListener("click", () => selectCell(row, col));
      }
    }
  }

  function clearSuggestions() { $("suggestions").textContent = ""; $("target").textContent = ""; }

  function highlightCell(row, col) {
    state.selected = { row, col };
    document.querySelectorAll("#grid td.selected").forEach((td) => td.classList.remove("selected"));
    const td = document.querySelector('#grid td[data-addr="' + a1(row, col) + '"]');
    if (td) { td.classList.add("selected"); if (td.scrollIntoView) td.scrollIntoView({ block: "nearest", inline: "nearest" }); }
  }

  function selectCell(row, col) {
    highlightCell(row, col);
    if (state.view === "check") {
      const sheet = currentSheet();
      const i = state.check && sheet ? state.check.flags.findIndex((f) => f.sheet === sheet.name && f.row === row && f.col === col) : -1;
      if (i >= 0) openFlag(i);
      else setStatus("Nothing flagged in " + a1(row, col) + ".");
      return;
    }
    suggest();
  }

  // ---------------------------------------------------------------- sources

  async function loadFile(file) {
    state.file = file;
    setStatus("Reading " + file.name + "…");
    const form = new FormData();
    form.append("file", file);
    try {
      const body = await call("/v1/sheets", { method: "POST", headers: headers(false), body: form });
      state.source = "xlsx";
      state.sheets = body.sheets.map((s) => ({ ...s, inserted: {} }));
      state.sheetIndex = 0;
      state.selected = null;
      clearCheck();
      renderTabs(); renderGrid(); clearSuggestions();
      setStatus(file.name + ": " + state.sheets.length + " sheet(s). Click a cell to see formulas for it.");
      if (state.view === "check") runCheck();
    } catch (err) {
      setStatus("Could not read " + file.name + ": " + err.message, true);
    }
  }

  function parseCell(text) {
    const t = text.trim();
    if (t === "") return { value: null, formula: null };
    if (t.startsWith("=") && t.length > 1) return { value: null, formula: t };
    if (/^(TRUE|FALSE)$/i.test(t)) return { value: t.toUpperCase() === "TRUE", formula: null };
    const plain = t.replace(/,/g, "");
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?%?$/.test(plain)) {
      const pct = plain.endsWith("%");
      const n = parseFloat(pct ? plain.slice(0, -1) : plain);
      return { value: pct ? n / 100 : n, formula: null };
    }
    return { value: t, formula: null };
  }

  function loadPaste(text) {
    const lines = text.replace(/\r\n?/g, "\n").replace(/\n+$/, "").split("\n");
    if (!lines.length || (lines.length === 1 && lines[0] === "")) { setStatus("Nothing to show: paste a range first.", true); return; }
    const cells = lines.map((line) => line.split("\t").map(parseCell));
    const width = Math.max(...cells.map((r) => r.length));
    const values = cells.map((r) => Array.from({ length: width }, (_, j) => (j < r.length ? r[j].value : null)));
    const formulas = cells.map((r, i) => Array.from({ length: width }, (_, j) => (j < r.length && r[j].formula ? r[j].formula : values[i][j])));
    state.source = "paste";
    state.file = null;
    state.sheets = [{ name: "Sheet1", address: "A1", values, formulas, inserted: {} }];
    state.sheetIndex = 0;
    state.selected = null;
    clearCheck();
    renderTabs(); renderGrid(); clearSuggestions();
    setStatus("Pasted " + values.length + "×" + width + " cells. Click a cell to see formulas for it.");
  }

  // The grid of the current sheet, grown to hold the target (so inserted formulas past the data count).
  function gridRequest(sheet) {
    return { sheet: sheet.name, address: sheet.address, values: sheet.values, formulas: sheet.formulas };
  }

  function options() {
    const o = { k: parseInt($("k").value, 10) };
    if ($("context").value) o.context = $("context").value;
    if (navigator.language && navigator.language !== "en-US") o.locale = navigator.language;
    return o;
  }

  async function suggest() {
    const sheet = currentSheet();
    if (!sheet || !state.selected) return;
    const target = a1(state.selected.row, state.selected.col);
    $("target").textContent = sheet.name + "!" + target;
    setStatus("Asking for formulas for " + target + "…");
    try {
      let body;
      if (state.source === "xlsx") {
        const form = new FormData();
        form.append("file", state.file);
        form.append("sheet", sheet.name);
        form.append("cell", target);
        const o = options();
        for (const key of Object.keys(o)) form.append(key, String(o[key]));
        body = await call("/v1/suggest/xlsx", { method: "POST", headers: headers(false), body: form });
      } else {
        body = await call("/v1/suggest", { method: "POST", headers: headers(true),
          body: JSON.stringify({ ...gridRequest(sheet), target, ...options() }) });
      }
      showSuggestions(body, target);
    } catch (err) {
      setStatus("No suggestions: " + err.message, true);
    }
  }

  function showSuggestions(body, target) {
    const list = $("suggestions");
    list.textContent = "";
    body.suggestions.forEach((s) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "suggestion";
      b.title = "Insert into " + target + (s.formula_local && s.formula_local !== s.formula ? " — " + s.formula_local : "");
      const code = document.createElement("code");
      code.textContent = s.formula;
      const bar = document.createElement("span");
      bar.className = "confidence";
      const fill = document.createElement("span");
      fill.style.width = Math.round(s.confidence * 100) + "%";
      bar.appendChild(fill);
      const pct = document.createElement("span");
      pct.className = "pct";
      pct.textContent = (s.confidence * 100).toFixed(1) + "%";
      pct.title = "probability that this is exactly the right formula";
      const src = document.createElement("span");
      src.className = "source";
      src.textContent = s.source || "";
      b.append(code, bar, pct, src);
      b.addEventListener("click", () => writeFormula(s.formula, target));
      li.appendChild(b);
      list.appendChild(li);
    });
    setStatus(body.suggestions.length
      ? body.suggestions.length + " suggestion(s) for " + target + " in " + body.elapsed_ms + " ms (model " + body.model + "). Click one to insert it."
      : "The model has no formula for " + target + ".");
  }

  // Write a formula into a cell (of the sheet called sheetName; default: the active / shown one):
  // in Excel with range.formulas, in the page into the grid. True when it was written.
  async function writeFormula(formula, target, sheetName) {
    if (state.mode === "office") {
      try {
        await Excel.run(async (context) => {
          const sheets = context.workbook.worksheets;
          const cell = (sheetName ? sheets.getItem(sheetName) : sheets.getActiveWorksheet()).getRange(target);
          cell.formulas = [[formula]];
          await context.sync();
        });
        setStatus("Inserted " + formula + " into " + target + ".");
        return true;
      } catch (err) {
        setStatus("Could not insert: " + err.message, true);
        return false;
      }
    }
    if (sheetName) showSheet(sheetName);
    const sheet = currentSheet();
    if (!sheet) return false;
    const origin = parseA1(sheet.address);
    const p = parseA1(target);
    const i = p.row - origin.row, j = p.col - origin.col;
    // Grow the grid to hold the target, then put the formula in (its value is unknown here).
    const width = Math.max((sheet.values[0] || []).length, j + 1);
    while (sheet.values.length <= i) { sheet.values.push([]); sheet.formulas.push([]); }
    for (let r = 0; r < sheet.values.length; r++) {
      while (sheet.values[r].length < width) { sheet.values[r].push(null); sheet.formulas[r].push(null); }
    }
    sheet.formulas[i][j] = formula;
    sheet.values[i][j] = null;
    sheet.inserted[target] = formula;
    renderGrid();
    setStatus("Inserted " + formula + " into " + target + ".");
    return true;
  }

  function showSheet(name) {
    const i = state.sheets.findIndex((s) => s.name === name);
    if (i < 0 || i === state.sheetIndex) return;
    state.sheetIndex = i;
    state.selected = null;
    renderTabs(); renderGrid(); clearSuggestions();
  }

  // ---------------------------------------------------------------- check

  function showView(view) {
    state.view = view;
    for (const [name, panel] of [["suggest", "suggestions-panel"], ["check", "check-panel"]]) {
      const button = $("view-" + name);
      button.classList.toggle("active", name === view);
      button.setAttribute("aria-pressed", String(name === view));
      $(panel).hidden = name !== view;
    }
    if (view === "check" && !state.check && (state.source === "xlsx" || state.mode === "office")) runCheck();
    else if (view === "check" && !state.check) setStatus("Upload a workbook (.xlsx), then Check looks for formulas that may be mistakes.");
  }

  function clearCheck() {
    state.check = null;
    $("flags").textContent = "";
    $("check-summary").textContent = "";
    $("flag-detail").hidden = true;
  }

  function flagAt(sheetName, row, col) {
    if (!state.check) return null;
    return state.check.flags.find((f) => f.sheet === sheetName && f.row === row && f.col === col) || null;
  }

  // The references of a formula, outside string literals: [{start: {row, col}, end: {row, col} | null}].
  function references(formula) {
    const text = String(formula || "").replace(/"[^"]*"/g, '""');
    const found = [];
    const pattern = /(?<![A-Za-z0-9_.])(\$?[A-Z]{1,3}\$?\d+)(?::(\$?[A-Z]{1,3}\$?\d+))?(?![A-Za-z0-9_(])/g;
    for (const m of text.matchAll(pattern)) found.push({ start: parseA1(m[1]), end: m[2] ? parseA1(m[2]) : null });
    return found;
  }

  // "range stops one row short" and the like: the first area whose end (start) the repair moves.
  function rangeLabel(flag) {
    const now = references(flag.formula), fixed = references(flag.repair);
    const end = flag.kind === "range_end";
    for (let i = 0; i < Math.min(now.length, fixed.length); i++) {
      if (!now[i].end || !fixed[i].end) continue;
      const a = end ? now[i].end : now[i].start, b = end ? fixed[i].end : fixed[i].start;
      if (!a || !b || (a.row === b.row && a.col === b.col)) continue;
      const rows = a.row !== b.row, n = Math.abs(rows ? b.row - a.row : b.col - a.col);
      const what = (n === 1 ? "one " : n + " ") + (rows ? "row" : "column") + (n === 1 ? "" : "s");
      const later = rows ? b.row > a.row : b.col > a.col; // the repair moves the corner down / right
      if (end) return later ? "range stops " + what + " short" : "range runs " + what + " too far";
      return later ? "range starts " + what + " too early" : "range starts " + what + " too late";
    }
    return null;
  }

  // "AVERAGE where SUM belongs": the first function the repair renames.
  function functionLabel(flag) {
    const names = (f) => Array.from(String(f || "").replace(/"[^"]*"/g, '""').matchAll(/([A-Z][A-Z0-9.]*)\(/g), (m) => m[1]);
    const now = names(flag.formula), fixed = names(flag.repair);
    for (let i = 0; i < Math.min(now.length, fixed.length); i++) {
      if (now[i] !== fixed[i]) return now[i] + " where " + fixed[i] + " belongs";
    }
    return null;
  }

  function kindLabel(flag) {
    const exact = flag.kind === "range_end" || flag.kind === "range_start" ? rangeLabel(flag)
      : flag.kind === "function_family" ? functionLabel(flag) : null;
    return exact || KIND_LABELS[flag.kind] || flag.kind.replace(/_/g, " ");
  }

  function shown(flag) {
    if (flag.formula) return flag.formula;
    return flag.value === null || flag.value === undefined ? "(empty)" : String(flag.value);
  }

  // The open document as an .xlsx file, through Office.js (in Excel the pane has no upload).
  function officeFile() {
    return new Promise((resolve, reject) => {
      Office.context.document.getFileAsync(Office.FileType.Compressed, { sliceSize: 4194304 }, (result) => {
        if (result.status !== Office.AsyncResultStatus.Succeeded) { reject(new Error(result.error.message)); return; }
        const file = result.value, parts = [];
        const next = (i) => file.getSliceAsync(i, (slice) => {
          if (slice.status !== Office.AsyncResultStatus.Succeeded) { file.closeAsync(); reject(new Error(slice.error.message)); return; }
          parts.push(new Uint8Array(slice.value.data));
          if (i + 1 < file.sliceCount) { next(i + 1); return; }
          file.closeAsync();
          resolve(new Blob(parts, { type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" }));
        });
        next(0);
      });
    });
  }

  async function runCheck() {
    let file = state.file, name = state.file ? state.file.name : "workbook.xlsx";
    if (state.mode !== "office" && state.source !== "xlsx") {
      setStatus("Check works on a workbook: upload an .xlsx (a pasted range cannot be checked).", true);
      return;
    }
    clearCheck();
    setStatus("Checking " + name + "…");
    $("check-run").disabled = true;
    try {
      if (state.mode === "office") file = await officeFile();
      const form = new FormData();
      form.append("file", file, name);
      const body = await call("/v1/check", { method: "POST", headers: headers(false), body: form });
      state.check = { flags: body.flags.map((f) => ({ ...f, applied: false })), active: -1 };
      renderFlags();
      renderGrid();
      $("check-summary").textContent = body.flags.length + " in " + body.cells_checked + " cells";
      setStatus(body.flags.length
        ? "Checked " + body.cells_checked + " cells in " + body.seconds + " s: " + body.flags.length + " possible mistake(s). Click one to see its repair."
        : "Checked " + body.cells_checked + " cells in " + body.seconds + " s: nothing looks like a mistake.");
    } catch (err) {
      setStatus("Could not check: " + err.message, true);
    } finally {
      $("check-run").disabled = false;
      $("check-run").textContent = "Check again";
    }
  }

  function renderFlags() {
    const list = $("flags");
    list.textContent = "";
    state.check.flags.forEach((flag, i) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "flag" + (flag.applied ? " applied" : "") + (i === state.check.active ? " active" : "");
      b.dataset.cell = flag.cell;
      const head = document.createElement("div");
      head.className = "head";
      const where = document.createElement("span");
      where.className = "where";
      where.textContent = flag.cell;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = (flag.applied ? "repaired: " : "") + kindLabel(flag);
      const pct = document.createElement("span");
      pct.className = "pct";
      pct.textContent = (flag.confidence * 100).toFixed(1) + "%";
      pct.title = "probability that this cell is a mistake";
      head.append(where, kind, pct);
      const change = document.createElement("div");
      const now = document.createElement("code"), fixed = document.createElement("code");
      now.textContent = shown(flag);
      fixed.textContent = flag.repair;
      change.append(now, " → ", fixed);
      b.append(head, change);
      b.addEventListener("click", () => openFlag(i));
      li.appendChild(b);
      list.appendChild(li);
    });
  }

  async function openFlag(i) {
    const flag = state.check.flags[i];
    state.check.active = i;
    renderFlags();
    $("flag-detail").hidden = false;
    $("flag-detail").classList.toggle("applied", flag.applied);
    $("flag-cell").textContent = flag.cell;
    $("flag-kind").textContent = kindLabel(flag) + ", " + (flag.confidence * 100).toFixed(1) + "%";
    $("flag-formula").textContent = shown(flag);
    $("flag-repair").textContent = flag.repair;
    $("flag-apply").disabled = flag.applied;
    $("flag-apply").textContent = flag.applied ? "Applied" : "Apply";
    const address = a1(flag.row, flag.col);
    if (state.mode === "office") {
      try {
        await Excel.run(async (context) => {
          const sheet = context.workbook.worksheets.getItem(flag.sheet);
          sheet.activate();
          sheet.getRange(address).select();
          await context.sync();
        });
      } catch (err) { /* the flag is shown even if Excel cannot select the cell */ }
    } else {
      showSheet(flag.sheet);
      highlightCell(flag.row, flag.col);
    }
    setStatus(flag.cell + ": " + kindLabel(flag) + ". " + (flag.applied ? "Repaired." : "Apply writes " + flag.repair + " into it."));
  }

  async function applyFlag() {
    if (!state.check || state.check.active < 0) return;
    const i = state.check.active, flag = state.check.flags[i];
    if (flag.applied) return;
    if (!(await writeFormula(flag.repair, a1(flag.row, flag.col), flag.sheet))) return;
    flag.applied = true;
    renderGrid();
    await openFlag(i);
    setStatus("Applied " + flag.repair + " to " + flag.cell + ".");
  }

  // ---------------------------------------------------------------- Office

  function inOfficeHost() { return /[?&](_host_Info|host=office)/i.test(window.location.search); }

  function loadOffice() {
    const url = document.body.dataset.officeJs;
    if (!url || url.indexOf("{{") === 0) return;
    const script = document.createElement("script");
    script.src = url;
    script.onload = () => {
      if (!window.Office) return;
      window.Office.onReady((info) => {
        if (info.host !== window.Office.HostType.Excel) return;
        state.mode = "office";
        $("mode").textContent = "Excel";
        $("office-panel").hidden = false;
        $("input-panel").hidden = true;
        $("office-suggest").addEventListener("click", suggestFromOffice);
      });
    };
    script.onerror = () => setStatus("Office.js could not be loaded; the page works on uploads and pasted ranges.", true);
    document.head.appendChild(script);
  }

  async function suggestFromOffice() {
    try {
      await Excel.run(async (context) => {
        const sheet = context.workbook.worksheets.getActiveWorksheet();
        const cell = context.workbook.getActiveCell();
        const used = sheet.getUsedRangeOrNullObject(true);
        sheet.load("name");
        cell.load("address,rowIndex,columnIndex");
        used.load("cellCount");
        await context.sync();
        let block = used;
        if (used.isNullObject || used.cellCount > MAX_GRID_CELLS) {
          // A window around the cell: the part of the sheet the model looks at, and more.
          const top = Math.max(cell.rowIndex - 40, 0), left = Math.max(cell.columnIndex - 20, 0);
          block = sheet.getRangeByIndexes(top, left, 81, 41);
        }
        block.load("address,values,formulas,numberFormat");
        await context.sync();
        const address = block.address.split("!").pop().split(":")[0];
        const target = cell.address.split("!").pop();
        state.sheets = [{ name: sheet.name, address, values: block.values, formulas: block.formulas, inserted: {} }];
        state.sheetIndex = 0;
        state.source = "office";
        const p = parseA1(target);
        state.selected = p;
        $("target").textContent = sheet.name + "!" + target;
        const body = await call("/v1/suggest", { method: "POST", headers: headers(true), body: JSON.stringify({
          sheet: sheet.name, address, values: block.values, formulas: block.formulas,
          number_formats: block.numberFormat, target, ...options() }) });
        showSuggestions(body, target);
      });
    } catch (err) {
      setStatus("No suggestions: " + err.message, true);
    }
  }

  // ---------------------------------------------------------------- start

  async function start() {
    $("file").addEventListener("change", (e) => { if (e.target.files.length) loadFile(e.target.files[0]); });
    $("show-paste").addEventListener("click", () => loadPaste($("paste").value));
    $("paste").addEventListener("paste", () => setTimeout(() => loadPaste($("paste").value), 0));
    $("view-suggest").addEventListener("click", () => showView("suggest"));
    $("view-check").addEventListener("click", () => showView("check"));
    $("check-run").addEventListener("click", runCheck);
    $("flag-apply").addEventListener("click", applyFlag);
    try {
      const info = await call("/v1/info", { headers: headers(false) });
      state.auth = info.auth;
      state.limits = info.limits;
      $("key-field").hidden = !info.auth;
      $("mode").textContent = "model " + info.model + ", v" + info.version;
    } catch (err) {
      setStatus("The service does not answer: " + err.message, true);
    }
    if (inOfficeHost()) loadOffice();
  }

  window.spreadsheetcoder = { state, loadPaste, selectCell, runCheck, kindLabel };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
