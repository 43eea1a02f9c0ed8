// Names the search box that select2 draws inside the admin's multiple autocomplete fields
// (e.g. an incident's tickets). select2 gives it no label, so screen readers announce an
// unnamed text box (axe-core's "label" rule, tests/browser/test_accessibility.py). Its name
// is the field's own label: "Search Tickets". Watched with a MutationObserver because select2
// draws the box after the page loads, and again for inline rows added later.
(function () {
  "use strict";

  function fieldLabel(searchField) {
    const container = searchField.closest(".select2-container");
    const select = container && container.previousElementSibling;
    if (!select || !select.id) {
      return "";
    }
    const label = document.querySelector('label[for="' + select.id + '"]');
    return label ? label.textContent.replace(/:\s*$/, "").trim() : "";
  }

  function name(searchField) {
    if (!searchField.hasAttribute("aria-label")) {
      const label = fieldLabel(searchField);
      searchField.setAttribute("aria-label", label ? "Search " + label : "Search");
    }
  }

  function scan(node) {
    if (node.nodeType !== Node.ELEMENT_NODE) {
      return;
    }
    if (node.matches(".select2-search__field")) {
      name(node);
    }
    node.querySelectorAll(".select2-search__field").forEach(name);
  }

  new MutationObserver(function (records) {
    records.forEach(function (record) {
      record.addedNodes.forEach(scan);
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
