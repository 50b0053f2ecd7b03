// Winnow job editor: each card (details, team, every step) is its own form, which
// works without this script. With it, saving one card first saves any other card with
// changes, so that nothing typed elsewhere is thrown away; a card's "Saved" badge goes
// as soon as it is changed again; and leaving the page with unsaved changes asks first.
(function () {
  "use strict";
  var root = document.querySelector("[data-editor]");
  if (!root || !window.fetch || !window.FormData || !window.URLSearchParams) return;
  var forms = Array.prototype.slice.call(root.querySelectorAll("form[method=post]"));
  var status = document.getElementById("editor-status");
  var leaving = false;

  function state(form) { return new URLSearchParams(new FormData(form)).toString(); }
  forms.forEach(function (f) { f.initial = state(f); });
  function dirty(f) { return state(f) !== f.initial; }
  function card(f) { return f.closest("section") || f; }
  function label(f) { return f.getAttribute("data-autosave") || "another section"; }

  function changed(e) {
    var f = e.target.form;
    if (!f || forms.indexOf(f) < 0) return;
    var c = card(f);
    var badge = c.querySelector(".saved");
    var mark = c.querySelector(".unsaved");
    if (dirty(f)) {
      if (badge) badge.remove();
      if (!mark) {
        mark = document.createElement("span");
        mark.className = "unsaved";
        mark.textContent = "Unsaved changes";
        var head = c.querySelector(".card-head, .step-head");
        if (head) head.insertBefore(mark, head.querySelector(".tools"));
      }
    } else if (mark) {
      mark.remove();
    }
  }
  root.addEventListener("input", changed);
  root.addEventListener("change", changed);

  function say(text) {
    if (!status) return;
    status.textContent = text;
    status.hidden = !text;
    if (text) status.scrollIntoView({ block: "center" });
  }

  // save posts one other card's form as it stands; the editor answers a saved form
  // with a redirect to itself, and a refused one with the page and its error (4xx).
  function save(f) {
    return fetch(f.getAttribute("action"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: state(f)
    }).then(function (res) {
      if (res.ok) { f.initial = state(f); return; }
      return res.text().then(function (html) {
        var msg = "";
        try {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var err = doc.querySelector(".error[role=alert]:not(#editor-status), #error-message");
          if (err) msg = err.textContent.trim();
        } catch (e) { /* keep the generic message */ }
        throw new Error("Your changes to " + label(f) + " were not saved" + (msg ? ": " + msg : ".") +
          " Fix them there, or undo them, and save again.");
      });
    });
  }

  forms.forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (f.proceed) { leaving = true; return; }
      // A step typed into "Add a step" is not added by saving something else: say so.
      var started = forms.some(function (o) { return o !== f && !o.hasAttribute("data-autosave") && dirty(o); });
      if (started && !window.confirm("The step you started under \"Add a step\" has not been added yet, and what you typed there will be lost. Continue?")) {
        e.preventDefault();
        return;
      }
      var others = forms.filter(function (o) { return o !== f && o.hasAttribute("data-autosave") && dirty(o); });
      if (!others.length) { leaving = true; return; }
      e.preventDefault();
      var submitter = e.submitter || null;
      say("");
      others.reduce(function (p, o) { return p.then(function () { return save(o); }); }, Promise.resolve())
        .then(function () {
          f.proceed = true;
          if (f.requestSubmit) f.requestSubmit(submitter); else f.submit();
        })
        .catch(function (err) {
          say(err && err.message ? err.message : "Your other changes could not be saved. Please try again.");
        });
    });
  });

  window.addEventListener("beforeunload", function (e) {
    if (leaving) return;
    if (forms.some(dirty)) {
      e.preventDefault();
      e.returnValue = "";
    }
  });
})();
