// Public pages (status, history, incidents, maintenance calendar) offer a visitor their own
// time zone: the browser's zone (Intl) is named on a button; pressing it stores the zone in the
// portal_tz cookie, which the server reads (accounts.selectors.request_timezone) to show every
// time in it, named. A second button goes back to UTC and the services' zones. Kept in a file:
// the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  var COOKIE = "portal_tz";
  var YEAR = 60 * 60 * 24 * 365;

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return "";
    }
  }

  function setCookie(value, maxAge) {
    var secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie =
      COOKIE + "=" + value + "; Path=/; Max-Age=" + maxAge + "; SameSite=Lax" + secure;
  }

  document.querySelectorAll("[data-zone-choice]").forEach(function (choice) {
    var zone = browserZone();
    var offer = choice.querySelector("[data-zone-offer]");
    // Zone names are letters, digits and / _ + - only: safe in a cookie as they are (Django
    // does not percent-decode cookies, so they are not encoded).
    if (offer && /^[A-Za-z0-9_+\/-]+$/.test(zone) && zone !== choice.dataset.zone) {
      offer.textContent = "Show times in your time zone (" + zone + ")";
      offer.hidden = false;
      offer.addEventListener("click", function () {
        setCookie(zone, YEAR);
        window.location.reload();
      });
    }
    var clear = choice.querySelector("[data-zone-clear]");
    if (clear) {
      clear.addEventListener("click", function () {
        setCookie("", 0);
        window.location.reload();
      });
    }
  });
})();
