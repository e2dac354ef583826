/* "Inloggen lukt niet": turns the plain list of links (wizard.md) into a step-by-step widget.
 * The data comes from the catalogue, rendered into the page at build time (data-ih-wizard-data); without
 * JavaScript the list of links to the catalogue anchors stays. Initialised on every page through document$,
 * so the widget also comes when Material's instant navigation brings the page. */
(function () {
  "use strict";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function button(label, onClick, className) {
    var node = el("button", { type: "button", class: className || "md-button" , text: label });
    node.addEventListener("click", onClick);
    return node;
  }

  function copyText(text, status) {
    function done() { status.textContent = "De tekst staat op uw klembord."; }
    function fail() { status.textContent = "Kopiëren lukte niet. Selecteer de tekst en kopieer hem zelf."; }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, fail);
    } else {
      fail();
    }
  }

  function emailCheck(panel) {
    var id = "ih-email-" + Math.random().toString(36).slice(2, 8);
    var input = el("input", { type: "email", id: id, name: "email", autocomplete: "email", class: "ih-wizard__input" });
    var result = el("p", { class: "ih-wizard__check", "aria-live": "polite" });
    var note = el("p", { class: "ih-wizard__hint ih-wizard__note" });
    var form = el("form", { class: "ih-wizard__email", novalidate: "" }, [
      el("label", { for: id, text: "Controleer of uw e-mailadres een werkadres kan zijn" }),
      el("span", { class: "ih-wizard__hint", text: "Wij bewaren uw e-mailadres niet." }),
      input,
      el("button", { type: "submit", class: "md-button", text: "Controleer" }),
      result,
      note,
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch("/api/v1/email-check", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ address: input.value }),
      })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(); })
        .then(function (data) {
          result.textContent = data.message;
          result.dataset.ok = data.ok ? "true" : "false";
          note.textContent = data.gebruikersbeheerder_note;
        })
        .catch(function () {
          result.textContent = "De controle is nu niet beschikbaar. Gebruik het e-mailadres dat u van uw organisatie kreeg.";
        });
    });
    panel.appendChild(form);
  }

  function mount(root) {
    // The data is an attribute: a <script> data block would not survive instant navigation under the CSP.
    var data;
    try {
      data = JSON.parse(root.getAttribute("data-ih-wizard-data"));
    } catch (error) {
      return; // the plain list of links stays
    }
    if (!data || !Array.isArray(data.methods)) return;
    var methods = {};
    data.methods.forEach(function (m) { methods[m.id] = m; });

    var live = el("div", { class: "ih-wizard__panel", tabindex: "-1" });
    var widget = el("div", { class: "ih-wizard__widget", role: "group", "aria-label": "Inloggen lukt niet: stap voor stap" }, [live]);
    root.appendChild(widget);
    Array.prototype.forEach.call(root.querySelectorAll(".ih-wizard__method"), function (section) {
      section.hidden = true;
    });

    function show(title, build, quiet) {
      live.innerHTML = "";
      var heading = el("p", { class: "ih-wizard__title", id: "ih-wizard-step", text: title });
      live.appendChild(heading);
      live.setAttribute("aria-labelledby", "ih-wizard-step");
      build(live);
      // Move focus to the new step so keyboard and screen-reader users continue there, and show the step
      // from its heading: the browser's own scroll for focus may leave it under Material's sticky header.
      if (!quiet) {
        live.focus({ preventScroll: true });
        var header = document.querySelector(".md-header");
        var covered = header ? header.getBoundingClientRect().bottom : 0;
        var top = heading.getBoundingClientRect().top;
        if (top < covered || top > window.innerHeight / 2) heading.scrollIntoView({ block: "start" });
      }
    }

    function stepMethod(quiet) {
      show("Stap 1 van 3: Hoe logt u in?", function (panel) {
        var list = el("div", { class: "ih-wizard__choices" });
        data.methods.forEach(function (m) {
          list.appendChild(button(m.label, function () { stepSymptom(m.id); }, "md-button ih-wizard__choice"));
        });
        panel.appendChild(list);
      }, quiet === true);
    }

    function stepSymptom(methodId) {
      var method = methods[methodId];
      show("Stap 2 van 3: Wat ziet u?", function (panel) {
        panel.appendChild(el("p", { class: "ih-wizard__hint", text: method.hint }));
        var list = el("div", { class: "ih-wizard__choices" });
        method.symptoms.forEach(function (s) {
          list.appendChild(button(s.label, function () { stepResult(methodId, s); }, "md-button ih-wizard__choice"));
        });
        panel.appendChild(list);
        panel.appendChild(button("Terug", function () { stepMethod(); }, "md-button ih-wizard__back"));
      });
    }

    function stepResult(methodId, symptom) {
      var entry = data.entries[symptom.entry];
      show("Stap 3 van 3: " + entry.title, function (panel) {
        panel.appendChild(el("p", {}, [el("strong", { text: "Wie moet iets doen: " }), document.createTextNode(entry.who_label + ".")]));
        panel.appendChild(el("p", {}, [el("strong", { text: "Waarom: " }), document.createTextNode(entry.cause)]));
        // The step's linked phrases (e.g. the page for eHerkenningsbeheerders) stay links.
        var stepNodes = (entry.step_parts || [{ text: entry.step }]).map(function (part) {
          return part.href ? el("a", { href: part.href, text: part.text }) : document.createTextNode(part.text);
        });
        panel.appendChild(el("p", { class: "ih-wizard__next" }, [el("strong", { text: "Uw volgende stap: " })].concat(stepNodes)));
        if (entry.mail) {
          var boxId = "ih-wizard-mail-" + symptom.id;
          var text = "Onderwerp: " + entry.mail.subject + "\n\n" + entry.mail.body;
          var status = el("p", { class: "ih-wizard__status", role: "status" });
          var mailto = "mailto:?subject=" + encodeURIComponent(entry.mail.subject) + "&body=" + encodeURIComponent(entry.mail.body);
          panel.appendChild(el("div", { class: "ih-wizard__mail" }, [
            el("label", { for: boxId, text: "Stuur dit naar uw " + entry.addressee }),
            el("textarea", { id: boxId, readonly: "", rows: "9", class: "ih-wizard__text" }),
            el("div", { class: "ih-wizard__actions" }, [
              button("Kopieer de tekst", function () { copyText(text, status); }),
              el("a", { href: mailto, class: "md-button", text: "Open in uw e-mailprogramma" }),
            ]),
            status,
          ]));
          panel.querySelector("#" + boxId).value = text;
        }
        if (symptom.entry === "email-not-business") emailCheck(panel);
        panel.appendChild(el("p", {}, [el("a", { href: "#" + symptom.entry, text: "Lees alles over: " + entry.title })]));
        panel.appendChild(el("div", { class: "ih-wizard__actions" }, [
          button("Terug", function () { stepSymptom(methodId); }, "md-button ih-wizard__back"),
          button("Opnieuw beginnen", function () { stepMethod(); }, "md-button ih-wizard__back"),
        ]));
      });
    }

    // The first render must not steal focus from the top of the page.
    stepMethod(true);
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-ih-wizard]:not([data-mounted])"), function (root) {
      root.dataset.mounted = "true";
      mount(root);
    });
  }

  if (typeof document$ !== "undefined") document$.subscribe(init);
  else document.addEventListener("DOMContentLoaded", init);
})();
