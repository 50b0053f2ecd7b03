// Winnow local times: a <time data-local-time> is written in UTC by the server, which
// cannot know the viewer's time zone; this shows it in the browser's own zone instead,
// keeping the UTC text as the tooltip. Without the script (or Intl) the UTC text stays.
(function () {
  "use strict";
  if (!window.Intl || !Intl.DateTimeFormat) return;
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  if (!zone || zone === "UTC" || zone === "Etc/UTC") return;
  var fmt = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  Array.prototype.forEach.call(document.querySelectorAll("time[data-local-time]"), function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d.getTime())) return;
    el.title = el.textContent;
    el.textContent = fmt.format(d);
  });
})();
