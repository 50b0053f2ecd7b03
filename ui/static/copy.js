// copy.js adds a "Copy" button beside each read-only field marked data-copy (candidate
// and invitation links), and a status beside it that says when the link was copied.
// Without JavaScript the field stays as it is: its text can be selected and copied by
// hand.
(function () {
  "use strict";
  function copy(input, status) {
    var say = function (text, ok) {
      status.textContent = text;
      status.classList.toggle("copied", ok);
      setTimeout(function () { status.textContent = ""; }, 3000);
    };
    var fallback = function () {
      input.focus();
      input.select();
      try { if (document.execCommand("copy")) { say("Copied", true); return; } } catch (e) { /* fall through */ }
      say("Press Ctrl+C to copy", false);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { say("Copied", true); }, fallback);
    } else {
      fallback();
    }
  }
  document.querySelectorAll("input[data-copy]").forEach(function (input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary small copy-button";
    button.textContent = "Copy";
    var status = document.createElement("span");
    status.className = "copy-status";
    status.setAttribute("role", "status");
    button.addEventListener("click", function () { copy(input, status); });
    input.insertAdjacentElement("afterend", button);
    button.insertAdjacentElement("afterend", status);
    input.addEventListener("focus", function () { input.select(); });
  });
})();
