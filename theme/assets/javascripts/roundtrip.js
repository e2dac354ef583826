// "Test de inlog" widget on the help site. Without JavaScript the placeholder holds a plain link to
// /diagnose; with it, the user picks an eHerkenningsmakelaar right here and the form starts the test.
// Also the banner "Uw inlogtest van 20:19 is niet afgerond" on every help page (showOpenTest).
(function () {
  "use strict";

  var API = "/api/v1/suppliers";
  var OPEN_TEST_API = "/api/v1/open-test";
  var HINT_COOKIE = "inloghulp_heeft_test";
  var NOTICES_API = "/api/v1/notices";
  var WAY_BACK = "/terug";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function buildForm(list, index, several) {
    var form = el("form", { method: "post", action: "/diagnose/start", "class": "inloghulp-roundtrip__form" });
    form.appendChild(el("input", { type: "hidden", name: "broker", value: list.broker }));
    var fieldset = el("fieldset");
    var legend = el("legend", {}, "Kies uw eHerkenningsmakelaar" + (several ? " (" + list.name + ")" : ""));
    fieldset.appendChild(legend);
    var choices = el("ul", { "class": "inloghulp-roundtrip__choices" });
    list.suppliers.forEach(function (supplier, position) {
      var id = "inloghulp-leverancier-" + index + "-" + position;
      var item = el("li");
      var input = el("input", { type: "radio", id: id, name: "supplier", value: supplier.entity_id, required: "" });
      if (list.suppliers.length === 1) input.checked = true;
      item.appendChild(input);
      item.appendChild(el("label", { "for": id }, " " + supplier.display_name));
      choices.appendChild(item);
    });
    fieldset.appendChild(choices);
    form.appendChild(fieldset);
    form.appendChild(comeBack());
    form.appendChild(el("button", { type: "submit", "class": "md-button md-button--primary" }, "Test de inlog"));
    return form;
  }

  // The service's JSON; a failed request rejects, and the caller keeps what works without it.
  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  // The same way back as on /diagnose: a broker that refuses (no machtiging) never sends the user back.
  function comeBack() {
    var note = el("p", { "class": "inloghulp-roundtrip__come-back" }, "Komt u niet vanzelf terug? Ga dan naar ");
    note.appendChild(el("a", { href: WAY_BACK }, location.origin + WAY_BACK));
    note.appendChild(document.createTextNode("."));
    return note;
  }

  // "Uw inlogtest van 20:19 is niet afgerond. Vertel ons wat u zag." Every help page has the banner's empty live
  // region (partials/open_test_banner.html); the service says whether this browser has an open test (the cookie
  // with its tests is httpOnly). Filling the region makes a screen reader read it out; the focus stays where it is.
  function showOpenTest(holder) {
    holder.dataset.mounted = "true";
    // Only a browser that started a test asks (the server sets this cookie with the test; it holds only "1").
    if (document.cookie.split("; ").indexOf(HINT_COOKIE + "=1") === -1) return;
    getJson(OPEN_TEST_API)
      .then(function (open) {
        if (!open || !open.url) return;
        var text = el("p", {}, open.text + " ");
        text.appendChild(el("a", { href: open.url }, open.link_text));
        text.appendChild(document.createTextNode("."));
        holder.appendChild(text);
      })
      .catch(function () { /* no banner; /terug still leads to the test */ });
  }

  // Outages people can see: the operator's notices and "Mogelijk een storing", as on /diagnose.
  function showNotices(holder) {
    getJson(NOTICES_API)
      .then(function (notices) {
        notices.slice().reverse().forEach(function (item) {
          var notice = el("div", { "class": "admonition warning inloghulp-roundtrip__outage",
            "data-notice": item.kind, "data-broker": item.broker });
          notice.appendChild(el("p", { "class": "admonition-title" }, item.title));
          notice.appendChild(el("p", {}, item.text));
          holder.insertBefore(notice, holder.firstChild);
        });
      })
      .catch(function () { /* no notices: the chooser shows them too */ });
  }

  function mount(holder) {
    showNotices(holder);
    holder.dataset.mounted = "true";
    getJson(API)
      .then(function (lists) {
        var usable = lists.filter(function (list) { return !list.error && list.suppliers.length > 0; });
        if (usable.length === 0) return; // keep the plain link
        var widget = el("div", { "class": "inloghulp-roundtrip__widget" });
        usable.forEach(function (list, index) { widget.appendChild(buildForm(list, index, usable.length > 1)); });
        var fallback = holder.querySelector("[data-inloghulp-roundtrip-link]");
        if (fallback) fallback.hidden = true;
        holder.appendChild(widget);
      })
      .catch(function () { /* the plain link to /diagnose stays */ });
  }

  function init() {
    document.querySelectorAll("[data-inloghulp-open-test]:not([data-mounted])").forEach(showOpenTest);
    document.querySelectorAll("[data-inloghulp-roundtrip]:not([data-mounted])").forEach(mount);
  }

  if (typeof document$ !== "undefined" && document$.subscribe) {
    document$.subscribe(init); // Material's instant navigation does not re-run extra_javascript
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
