/* Data tables may scroll sideways on a small screen (WCAG 1.4.10 allows it for data tables only), so a
 * keyboard user must be able to reach and scroll them (axe: scrollable-region-focusable). Material wraps
 * every table in a scroll box (.md-typeset__scrollwrap); this makes that box a named, focusable region.
 * Runs on every page, also after instant navigation (document$), and on the service's pages. */
(function () {
  "use strict";

  function tableName(box) {
    var caption = box.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    // No caption: the heading the table belongs to.
    for (var node = box.previousElementSibling; node; node = node.previousElementSibling) {
      if (/^H[1-6]$/.test(node.tagName)) return node.textContent.replace(/¶$/, "").trim();
    }
    var section = box.closest("section[aria-labelledby]");
    var label = section && document.getElementById(section.getAttribute("aria-labelledby"));
    return label ? label.textContent.trim() : "";
  }

  function init() {
    document.querySelectorAll(".md-typeset__scrollwrap:not([data-ih-table])").forEach(function (box) {
      box.setAttribute("data-ih-table", "");
      var name = tableName(box);
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", name ? "Tabel: " + name : "Tabel");
    });
  }

  if (typeof document$ !== "undefined" && document$.subscribe) document$.subscribe(init);
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
