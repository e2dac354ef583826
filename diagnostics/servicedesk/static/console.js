// A copy button for each read-only text marked data-copy (the ticket reply). Without this script the
// text area still works: select the text and copy it.
(function () {
  "use strict";

  function copyText(area) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(area.value);
    }
    // Plain http on an intranet: the clipboard API is missing there, the old command still works.
    area.focus();
    area.select();
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject(new Error("copy"));
  }

  document.querySelectorAll("textarea[data-copy]").forEach(function (area) {
    var status = area.parentNode.querySelector("[data-copy-status]");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Kopieer het antwoord";
    button.addEventListener("click", function () {
      copyText(area).then(
        function () { status.textContent = "Het antwoord is gekopieerd."; },
        function () { status.textContent = "Kopiëren lukte niet. Selecteer de tekst en kopieer die zelf."; }
      );
    });
    area.insertAdjacentElement("afterend", button);
  });
})();
