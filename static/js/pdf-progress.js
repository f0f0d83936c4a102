// Progressive enhancement: follow a PDF being made, then show the page with its download.
(function () {
  var section = document.querySelector("[data-pdf-status]");
  if (!section) return;
  var state = section.getAttribute("data-pdf-state");
  if (state !== "waiting" && state !== "running") return;
  var bar = section.querySelector("progress");
  var stage = section.querySelector("[data-pdf-stage]");
  function look() {
    fetch(section.getAttribute("data-pdf-status"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer) return;
        if (answer.state === "ready" || answer.state === "failed") { window.location.reload(); return; }
        if (bar) { bar.value = answer.progress; bar.textContent = answer.progress + " %"; }
        if (stage && answer.stage) stage.textContent = answer.stage;
        window.setTimeout(look, 1500);
      })
      .catch(function () { window.setTimeout(look, 5000); });
  }
  window.setTimeout(look, 1000);
})();
