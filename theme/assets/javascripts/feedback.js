/* "Was deze pagina nuttig?": Material renders its feedback form hidden when no analytics provider is
 * set. We show it and post the answer to our own API (no third party, nothing about the reader). */
(function () {
  "use strict";

  function init() {
    var form = document.forms.feedback;
    if (!form || form.dataset.mounted) return;
    form.dataset.mounted = "true";
    var status = document.createElement("p");
    status.className = "ih-feedback__status";
    status.setAttribute("role", "status");
    form.appendChild(status);
    Array.prototype.forEach.call(form.querySelectorAll("[type=submit]"), function (button) {
      button.setAttribute("aria-label", button.getAttribute("title"));
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var value = this.getAttribute("data-md-value");
        fetch("/api/v1/feedback", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ page: document.location.pathname, rating: Number(value) }),
        })
          .then(function (response) {
            if (!response.ok) throw new Error(String(response.status));
            form.firstElementChild.disabled = true;
            var note = form.querySelector(".md-feedback__note [data-md-value='" + value + "']");
            if (note) note.hidden = false;
          })
          .catch(function () {
            status.textContent = "Uw antwoord kon niet worden verstuurd. Probeer het later opnieuw.";
          });
      });
    });
    form.hidden = false;
  }

  if (typeof document$ !== "undefined") document$.subscribe(init);
  else document.addEventListener("DOMContentLoaded", init);
})();
