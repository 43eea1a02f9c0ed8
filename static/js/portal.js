/* The portal's few behaviours, kept out of the pages: the Content-Security-Policy allows no
   inline script or event-handler attribute (script-src 'self'). */
"use strict";

/* <select data-autosubmit> submits its form when changed (the page offers a button without JS). */
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.matches && field.matches("[data-autosubmit]") && field.form) {
    field.form.submit();
  }
});
