/* Knowledge-base suggestions on the new-ticket form: as the customer types a subject, the
   articles that may answer it are listed under the field (GET /kb/suggest.json, debounced, the
   last answer wins). Without JavaScript the box stays a list of links to the knowledge bases.
   A file of its own: the Content-Security-Policy allows no inline script. Text is set with
   textContent only, never parsed as HTML. */
"use strict";

(function () {
  var box = document.getElementById("kb-suggest");
  if (!box || !window.fetch) {
    return;
  }
  var subject = document.getElementById(box.getAttribute("data-subject-field"));
  var service = document.getElementById(box.getAttribute("data-service-field"));
  if (!subject) {
    return;
  }
  var url = box.getAttribute("data-suggest-url");
  var results = box.querySelector(".kb-suggest-results");
  var list = results.querySelector("ul");
  var DELAY_MS = 300;
  var MIN_CHARS = 3;
  var timer = null;
  var latest = 0;
  var lastAsked = "";

  // Under the subject field, where the customer is looking while typing.
  var field = subject.closest(".mb-3") || subject.parentNode;
  field.parentNode.insertBefore(box, field.nextSibling);
  subject.setAttribute("aria-describedby",
    ((subject.getAttribute("aria-describedby") || "") + " kb-suggest").trim());

  function show(articles) {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    articles.forEach(function (article) {
      var item = document.createElement("li");
      item.className = "kb-suggestion";
      var link = document.createElement("a");
      link.href = article.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = article.title;
      item.appendChild(link);
      var where = document.createElement("span");
      where.className = "text-muted";
      where.textContent = " — " + article.service + ": " + article.excerpt;
      item.appendChild(where);
      list.appendChild(item);
    });
    results.hidden = articles.length === 0;
  }

  function ask() {
    var text = subject.value.trim();
    var chosen = service && service.value ? service.value : "";
    var key = chosen + "\n" + text;
    if (key === lastAsked) {
      return;
    }
    lastAsked = key;
    if (text.length < MIN_CHARS) {
      latest += 1;
      show([]);
      return;
    }
    var ticket = ++latest;
    var query = "?q=" + encodeURIComponent(text) + (chosen ? "&service=" + encodeURIComponent(chosen) : "");
    fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { articles: [] };
      })
      .then(function (data) {
        if (ticket === latest) {
          show(data.articles || []);
        }
      })
      .catch(function () {
        /* Suggestions are a help, not a step: a failed request leaves the form as it is. */
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, DELAY_MS);
  }

  subject.addEventListener("input", later);
  if (service) {
    service.addEventListener("change", ask);
  }
  if (subject.value) {
    ask();
  }
})();
