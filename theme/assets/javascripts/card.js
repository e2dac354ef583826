/* Beheerder card: copy buttons, "Kopieer alles", print, and fresh values from /api/v1/service-info.
   The card is complete without this script; it only adds buttons and refreshes the values. */
(function () {
  "use strict";

  function say(card, message) {
    var status = card.querySelector("[data-bhk-status]");
    if (!status) return;
    status.textContent = "";
    // A new text node after a tick makes screen readers announce the same message twice in a row.
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "bhk-offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  function button(text, hiddenText) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "bhk-copy";
    element.appendChild(document.createTextNode(text));
    if (hiddenText) {
      var hidden = document.createElement("span");
      hidden.className = "bhk-offscreen";
      hidden.textContent = " " + hiddenText;
      element.appendChild(hidden);
    }
    return element;
  }

  function addButtons(card) {
    card.querySelectorAll("[data-bhk-field]").forEach(function (value) {
      var label = value.getAttribute("data-bhk-label") || "";
      var copyButton = button("Kopieer", label);
      copyButton.setAttribute("data-bhk-copy", value.getAttribute("data-bhk-field"));
      copyButton.addEventListener("click", function () {
        copy(value.textContent).then(
          function () { say(card, label + " is gekopieerd."); },
          function () { say(card, "Kopiëren lukt niet. Selecteer de tekst en kopieer hem zelf."); }
        );
      });
      value.parentNode.appendChild(copyButton);
    });
    var all = card.querySelector("[data-bhk-all]");
    var actions = card.querySelector("[data-bhk-actions]");
    if (all && actions) {
      var allButton = button("Kopieer alles");
      allButton.setAttribute("data-bhk-copy", "all");
      allButton.addEventListener("click", function () {
        copy(all.textContent).then(
          function () { say(card, "Alle gegevens zijn gekopieerd."); },
          function () { say(card, "Kopiëren lukt niet. Selecteer de tekst en kopieer hem zelf."); }
        );
      });
      actions.insertBefore(allButton, actions.firstChild);
      var printButton = button("Afdrukken");
      printButton.setAttribute("data-bhk-print", "");
      printButton.addEventListener("click", function () {
        document.documentElement.classList.add("bhk-printing");
        window.print();
      });
      actions.appendChild(printButton);
    }
  }

  function refresh(card) {
    var url = card.getAttribute("data-service-info-url");
    if (!url || !window.fetch) return;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (info) {
        if (!info || !Array.isArray(info.card)) return;
        info.card.forEach(function (field) {
          var value = card.querySelector('[data-bhk-field="' + field.key + '"]');
          if (value && value.textContent !== field.value) value.textContent = field.value;
        });
        var all = card.querySelector("[data-bhk-all]");
        if (all && typeof info.text === "string") all.textContent = info.text;
        var mail = card.querySelector("[data-bhk-mail]");
        if (mail && typeof info.mailto === "string") mail.setAttribute("href", info.mailto);
      })
      .catch(function () { /* the static values stay: they come from the same configuration */ });
  }

  function init() {
    document.querySelectorAll("[data-bhk-card]").forEach(function (card) {
      if (card.hasAttribute("data-bhk-ready")) return;
      card.setAttribute("data-bhk-ready", "");
      addButtons(card);
      refresh(card);
    });
  }

  window.addEventListener("afterprint", function () {
    document.documentElement.classList.remove("bhk-printing");
  });

  // Material's instant navigation swaps pages without a reload; document$ fires for each page.
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
