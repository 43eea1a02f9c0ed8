// The ticket page's canned replies (tickets/admin/forms.py CannedReplySelect): choosing one
// inserts its filled-in text into the public reply box at the cursor, as plain text.
// A static file, not an inline script: the Content-Security-Policy allows scripts from this
// site only.
(function () {
  "use strict";
  function insert(box, text) {
    var start = box.selectionStart || 0;
    var end = box.selectionEnd || 0;
    var before = box.value.slice(0, start);
    var after = box.value.slice(end);
    if (before && !/\n$/.test(before)) {
      before += "\n";
    }
    box.value = before + text + after;
    var caret = before.length + text.length;
    box.focus();
    box.setSelectionRange(caret, caret);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_canned_reply");
    var box = document.getElementById("id_public_reply");
    if (!select || !box) {
      return;
    }
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var text = option && option.getAttribute("data-body");
      if (text) {
        insert(box, text);
      }
      select.selectedIndex = 0;
    });
  });
})();
