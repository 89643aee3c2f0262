"use strict";
(function () {
  var OUTCOME_KEYS = { r: "resolved", e: "escalated", f: "refused", d: "deflected" };
  var items = Array.prototype.slice.call(document.querySelectorAll("section.item"));
  var storeKey = "evalgate-label:" + document.body.getAttribute("data-run");
  var labelerInput = document.getElementById("labeler");
  var state = { labeler: "", labels: {} };
  var current = 0;

  function idOf(section) {
    return section.getAttribute("data-key") + "#" + section.getAttribute("data-repeat") + "#" + section.getAttribute("data-sha");
  }
  function labelOf(section) {
    var id = idOf(section);
    if (!state.labels[id]) { state.labels[id] = { criteria: {}, outcome: null, note: "" }; }
    return state.labels[id];
  }
  // A result counts as labelled only when every criterion and the outcome are marked:
  // a half-marked result would be read as a judgement the labeler never made.
  function complete(section) {
    var label = state.labels[idOf(section)];
    if (!label || !label.outcome) { return false; }
    var count = Number(section.getAttribute("data-criteria"));
    for (var n = 1; n <= count; n++) {
      if (typeof label.criteria[n] !== "boolean") { return false; }
    }
    return true;
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode: progress is lost on reload */ }
  }
  function load() {
    try {
      var saved = JSON.parse(localStorage.getItem(storeKey) || "null");
      if (saved && typeof saved.labels === "object") { state = saved; }
    } catch (e) { /* unreadable progress: start afresh */ }
  }
  function paint(section) {
    var label = state.labels[idOf(section)] || { criteria: {}, outcome: null, note: "" };
    section.querySelectorAll("button[data-n]").forEach(function (b) {
      var mark = label.criteria[b.getAttribute("data-n")];
      b.setAttribute("aria-pressed", String(typeof mark === "boolean" && String(mark) === b.getAttribute("data-passed")));
    });
    section.querySelectorAll("button[data-outcome]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(label.outcome === b.getAttribute("data-outcome")));
    });
    var note = section.querySelector("textarea.note");
    if (note.value !== label.note) { note.value = label.note || ""; }
    section.classList.toggle("done", complete(section));
    section.classList.toggle("current", items[current] === section);
  }
  function paintAll() {
    items.forEach(paint);
    var done = items.filter(complete).length;
    document.getElementById("progress").textContent = done + " of " + items.length + " labelled";
  }
  function changed(section) { save(); paint(section); paintAll(); }

  function setCriterion(section, n, passed) {
    if (n > Number(section.getAttribute("data-criteria"))) { return; }
    labelOf(section).criteria[n] = passed;
    changed(section);
  }
  function toggleCriterion(section, n) {
    var mark = labelOf(section).criteria[n];
    setCriterion(section, n, mark !== true);
  }
  function setOutcome(section, outcome) {
    labelOf(section).outcome = outcome;
    changed(section);
  }
  function go(to) {
    if (items.length === 0) { return; }
    current = Math.max(0, Math.min(items.length - 1, to));
    paintAll();
    items[current].scrollIntoView({ block: "start" });
  }

  function jsonl() {
    var labeler = labelerInput.value.trim();
    return items.filter(complete).map(function (section) {
      var label = state.labels[idOf(section)];
      var criteria = [];
      for (var n = 1; n <= Number(section.getAttribute("data-criteria")); n++) {
        criteria.push({ n: n, passed: label.criteria[n] });
      }
      return JSON.stringify({
        key: section.getAttribute("data-key"),
        repeat: Number(section.getAttribute("data-repeat")),
        transcript_sha256: section.getAttribute("data-sha"),
        labeler: labeler,
        criteria: criteria,
        outcome: label.outcome,
        note: label.note || ""
      }) + "\n";
    }).join("");
  }
  function exportLabels(download) {
    var text = jsonl();
    document.getElementById("export").textContent = text;
    if (!download) { return; }
    if (!labelerInput.value.trim()) {
      labelerInput.focus();
      alert("Enter your name as labeler first: calibration tells labelers apart by it.");
      return;
    }
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
    link.download = "labels-" + labelerInput.value.trim().replace(/[^A-Za-z0-9_-]+/g, "_") + ".jsonl";
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function onKey(key) {
    var section = items[current];
    if (key === "j") { go(current + 1); } else if (key === "k") { go(current - 1); }
    else if (!section) { return; }
    else if (/^[1-9]$/.test(key)) { toggleCriterion(section, Number(key)); }
    else if (OUTCOME_KEYS[key]) { setOutcome(section, OUTCOME_KEYS[key]); }
  }

  load();
  labelerInput.value = state.labeler || "";
  labelerInput.addEventListener("input", function () { state.labeler = labelerInput.value; save(); });
  document.addEventListener("keydown", function (event) {
    var tag = event.target && event.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    onKey(event.key);
  });
  items.forEach(function (section, index) {
    section.addEventListener("click", function (event) {
      var b = event.target.closest("button");
      current = index;
      if (b && b.hasAttribute("data-n")) { setCriterion(section, Number(b.getAttribute("data-n")), b.getAttribute("data-passed") === "true"); }
      else if (b && b.hasAttribute("data-outcome")) { setOutcome(section, b.getAttribute("data-outcome")); }
      else { paintAll(); }
    });
    section.querySelector("textarea.note").addEventListener("input", function (event) {
      labelOf(section).note = event.target.value;
      save();
    });
  });
  document.getElementById("download").addEventListener("click", function () { exportLabels(true); });
  paintAll();
  exportLabels(false);

  // For evalgate's own end-to-end test: `#autotest&labeler=NAME&keys=KEYS` presses KEYS
  // through the same handler a person's keyboard reaches, then shows the labels.
  if (location.hash.indexOf("#autotest") === 0) {
    var params = new URLSearchParams(location.hash.slice("#autotest".length).replace(/^&/, ""));
    labelerInput.value = params.get("labeler") || "";
    (params.get("keys") || "").split("").forEach(function (key) {
      document.dispatchEvent(new KeyboardEvent("keydown", { key: key, bubbles: true }));
    });
    exportLabels(false);
  }
  document.body.setAttribute("data-js", "ready");
})();
