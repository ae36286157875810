// Keyboard shortcuts of the console (outside form fields): n / p next and previous dossier,
// f the queue's filters, v validate (the dossier's first validation button), ? this help.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(document.activeElement)) return;
    var target = null;
    if (ev.key === "n" || ev.key === "j") target = document.querySelector("a[rel=next]");
    if (ev.key === "p" || ev.key === "k") target = document.querySelector("a[rel=prev]");
    if (target) { ev.preventDefault(); target.click(); return; }
    if (ev.key === "f") {
      var first = document.querySelector("#filtres select, #filtres input");
      if (first) { ev.preventDefault(); first.focus(); }
    }
    if (ev.key === "v") {
      var validate = document.querySelector("button[data-key=v]");
      if (validate) { ev.preventDefault(); validate.focus(); }
    }
    if (ev.key === "?") {
      var help = document.getElementById("raccourcis");
      if (help) { ev.preventDefault(); help.hidden = !help.hidden; }
    }
  });
  // « Tout cocher » in the queue: ticks every dossier that can be validated in bulk.
  var all = document.getElementById("tout-cocher");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=dossier]").forEach(function (box) { box.checked = all.checked; });
    });
  }
})();
