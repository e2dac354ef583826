// Enhancements for the diagnostics pages; every page works without this file.
(function () {
  "use strict";

  function addCopyButtons() {
    document.querySelectorAll("textarea.copy-text[data-copy-label]:not([data-mounted])").forEach(function (area) {
      area.dataset.mounted = "true";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.textContent = area.dataset.copyLabel;
      var status = area.parentElement.querySelector(".copy-status");
      button.addEventListener("click", function () {
        var done = function () { if (status) status.textContent = "De tekst staat op het klembord."; };
        var fallback = function () {
          area.select();
          if (document.execCommand && document.execCommand("copy")) { done(); }
          else if (status) { status.textContent = "Kopiëren lukte niet. Selecteer de tekst en kopieer hem zelf."; }
        };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(area.value).then(done, fallback);
        } else {
          fallback();
        }
      });
      area.insertAdjacentElement("afterend", button);
    });
  }

  function autoSubmit() {
    // The SAML POST binding: without JavaScript the user presses "Verder" on the same form.
    var form = document.querySelector("form[data-autosubmit]");
    if (form) form.submit();
  }

  function init() { addCopyButtons(); autoSubmit(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
