/* The time-zone picker (<select data-timezone-picker>): a search box that narrows its options,
   and the browser's own zone suggested (preselected when no zone is chosen yet). A file of its
   own: the Content-Security-Policy allows no inline script. */
"use strict";

(function () {
  var select = document.querySelector("select[data-timezone-picker]");
  if (!select) {
    return;
  }
  var browserZone = "";
  try {
    browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    browserZone = "";
  }
  var offered = Array.prototype.some.call(select.options, function (option) {
    return option.value === browserZone;
  });

  var hint = document.createElement("p");
  hint.className = "form-text";
  hint.setAttribute("data-testid", "browser-zone");
  if (browserZone && offered) {
    if (select.value === "") {
      select.value = browserZone;
      hint.textContent = "Suggested from your browser: " + browserZone.replace(/_/g, " ") +
        ". Save to keep it.";
    } else if (select.value !== browserZone) {
      var use = document.createElement("button");
      use.type = "button";
      use.className = "btn btn-link btn-sm p-0 align-baseline";
      use.textContent = "Use your browser's zone, " + browserZone.replace(/_/g, " ");
      use.addEventListener("click", function () {
        select.value = browserZone;
      });
      hint.appendChild(use);
    }
  }

  var search = document.createElement("input");
  search.type = "search";
  search.className = "form-control form-control-sm mb-2";
  search.placeholder = "Search zones, e.g. Berlin";
  search.setAttribute("aria-label", "Search time zones");
  search.addEventListener("input", function () {
    var term = search.value.trim().toLowerCase().replace(/ /g, "_");
    Array.prototype.forEach.call(select.options, function (option) {
      var match = !term || option.value === "" || option.value.toLowerCase().indexOf(term) !== -1;
      option.hidden = !match;
    });
  });
  select.parentNode.insertBefore(search, select);
  select.parentNode.insertBefore(hint, select.nextSibling);
})();
