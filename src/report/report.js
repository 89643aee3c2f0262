(function () {
  var root = document.documentElement;
  root.setAttribute("data-js", "ready");
  var bar = document.getElementById("filters");
  if (!bar) { return; }
  bar.hidden = false;
  var selects = bar.querySelectorAll("select");
  var cases = document.querySelectorAll("#cases > details");
  var shown = document.getElementById("shown");
  function apply() {
    var want = {};
    selects.forEach(function (s) { want[s.name] = s.value; });
    var n = 0;
    cases.forEach(function (d) {
      var show = true;
      Object.keys(want).forEach(function (k) {
        if (want[k] && d.getAttribute("data-" + k) !== want[k]) { show = false; }
      });
      // Touch only what changes: thousands of needless writes make the page slow.
      if (d.hidden === show) { d.hidden = !show; }
      if (show) { n += 1; }
    });
    shown.textContent = String(n);
  }
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  // Nothing is filtered on load: every case is already shown.
})();
