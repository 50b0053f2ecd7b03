// copy.js adds a "Copy" button beside each read-only field marked data-copy (candidate
// and invitation links). Without JavaScript the field stays as it is: its text can be
// selected and copied by hand.
(function () {
  "use strict";
  function copy(input, button) {
    var done = function () {
      button.textContent = "Copied";
      button.classList.add("copied");
      setTimeout(function () { button.textContent = "Copy"; button.classList.remove("copied"); }, 2000);
    };
    var fallback = function () {
      input.focus();
      input.select();
      try { if (document.execCommand("copy")) { done(); return; } } catch (e) { /* fall through */ }
      button.textContent = "Press Ctrl+C";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, fallback);
    } else {
      fallback();
    }
  }
  document.querySelectorAll("input[data-copy]").forEach(function (input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary small copy-button";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy " + (input.getAttribute("aria-label") || "link"));
    button.addEventListener("click", function () { copy(input, button); });
    input.insertAdjacentElement("afterend", button);
    input.addEventListener("focus", function () { input.select(); });
  });
})();
