// Winnow video step: records answers in the browser with MediaRecorder where it is
// available, and uploads each recording on its own to the step's form address. Without
// this script (or MediaRecorder, or a camera) the page still works: each question has
// a plain file input that phones open on the camera.
(function () {
  "use strict";
  var form = document.querySelector("form[data-video-form]");
  if (!form || !window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;

  var maxSeconds = parseInt(form.getAttribute("data-max-seconds"), 10) || 600;
  var mimeType = ["video/webm;codecs=vp9,opus", "video/webm;codecs=vp8,opus", "video/webm",
    "video/mp4;codecs=avc1,mp4a", "video/mp4"].filter(function (t) {
    return MediaRecorder.isTypeSupported(t);
  })[0] || "";
  var busy = false; // one recording or upload at a time

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) e.textContent = text;
    return e;
  }
  function clock(s) {
    s = Math.max(0, Math.floor(s));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  // The camera and microphone check, before the first question: a live picture and a
  // sound level, nothing recorded or sent.
  (function () {
    var panel = document.querySelector("[data-device-check]");
    if (!panel) return;
    var start = el("button", { type: "button", "class": "c-ghost" }, "Check camera and microphone");
    var done = el("button", { type: "button", "class": "c-secondary", hidden: "" }, "Stop the check");
    var preview = el("video", { playsinline: "", muted: "", "aria-label": "Your camera" });
    var level = el("div", { "class": "c-level", hidden: "", role: "meter", "aria-label": "Microphone level", "aria-valuemin": "0", "aria-valuemax": "100" });
    var levelFill = el("span");
    var note = el("p", { "class": "c-status", "aria-live": "polite" });
    var s = null, audio = null, raf = 0;
    level.appendChild(levelFill);
    preview.hidden = true;
    var bar = el("div", { "class": "c-rec-bar" });
    bar.append(start, done);
    panel.append(preview, level, bar, note);
    panel.hidden = false;
    function stopCheck() {
      cancelAnimationFrame(raf);
      if (s) s.getTracks().forEach(function (t) { t.stop(); });
      if (audio) audio.close();
      s = audio = null;
      preview.srcObject = null;
      preview.hidden = level.hidden = done.hidden = true;
      start.hidden = false;
      busy = false;
      if (!/c-ok/.test(note.className)) note.textContent = "";
    }
    start.addEventListener("click", function () {
      if (busy) return;
      busy = true;
      note.textContent = "Starting your camera…";
      note.className = "c-status";
      navigator.mediaDevices.getUserMedia({ audio: true, video: { facingMode: "user" } }).then(function (stream) {
        s = stream;
        preview.muted = true;
        preview.srcObject = stream;
        preview.hidden = false;
        preview.play();
        start.hidden = true;
        done.hidden = false;
        var heard = false;
        var Ctx = window.AudioContext || window.webkitAudioContext;
        if (Ctx) {
          audio = new Ctx();
          var an = audio.createAnalyser();
          an.fftSize = 512;
          audio.createMediaStreamSource(stream).connect(an);
          var buf = new Uint8Array(an.fftSize);
          level.hidden = false;
          (function draw() {
            an.getByteTimeDomainData(buf);
            var peak = 0;
            for (var i = 0; i < buf.length; i++) peak = Math.max(peak, Math.abs(buf[i] - 128));
            var pct = Math.min(100, Math.round(peak / 1.28));
            levelFill.style.width = pct + "%";
            level.setAttribute("aria-valuenow", String(pct));
            if (pct > 8 && !heard) {
              heard = true;
              note.textContent = "We can see and hear you. You're ready for the first question.";
              note.className = "c-status c-ok";
            }
            raf = requestAnimationFrame(draw);
          })();
        }
        note.textContent = "Can you see yourself? Say something: the bar moves when we can hear you.";
      }).catch(function () {
        stopCheck();
        note.textContent = "We couldn't use your camera or microphone. Allow access in your browser's settings and try again, or upload video files instead.";
        note.className = "c-status c-bad";
      });
    });
    done.addEventListener("click", stopCheck);
    form.addEventListener("click", function (e) {
      // Starting a recording ends the check, so that the camera has one user.
      if (s && e.target !== start && e.target !== done && e.target.closest("[data-recorder]")) stopCheck();
    }, true);
  })();

  Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-prompt]"), function (box) {
    var name = box.getAttribute("data-prompt");
    var number = box.getAttribute("data-number");
    var input = box.querySelector("input[type=file]");
    var status = box.querySelector(".c-status");
    var area = box.querySelector("[data-recorder]");
    var uploadLabel = box.querySelector("[data-upload-label]");
    var video = el("video", { playsinline: "", "aria-label": "Camera for question " + number });
    var bar = el("div", { "class": "c-rec-bar" });
    var record = el("button", { type: "button", "class": "c-ghost" }, box.hasAttribute("data-saved") ? "Record again" : "Record your answer");
    var stop = el("button", { type: "button", "class": "c-danger", hidden: "" }, "Stop recording");
    var use = el("button", { type: "button", "class": "c-primary", hidden: "" }, "Use this answer");
    var timer = el("span", { "class": "c-timer", "aria-live": "off" });
    var meter = el("div", { "class": "c-meter", hidden: "", role: "progressbar", "aria-label": "Upload progress", "aria-valuemin": "0", "aria-valuemax": "100" });
    var meterFill = el("span");
    var stream = null, recorder = null, chunks = [], blob = null, started = 0, tick = null, lengthMs = 0;

    meter.appendChild(meterFill);
    video.hidden = true;
    bar.append(record, stop, use, timer);
    // The status line sits right under the buttons, where the candidate looks after
    // pressing one, not above a video that may be off-screen.
    area.append(video, bar, status, meter);
    area.hidden = false;
    uploadLabel.textContent = "Or upload a video file instead";

    function say(text, kind) {
      status.textContent = text;
      status.className = "c-status" + (kind ? " " + kind : "");
    }
    function endStream() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
    }
    function show(btn, on) { btn.hidden = !on; }

    record.addEventListener("click", function () {
      if (busy) return;
      busy = true;
      blob = null;
      show(use, false);
      say("Starting your camera…");
      navigator.mediaDevices.getUserMedia({ audio: true, video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } } })
        .then(function (s) {
          stream = s;
          video.hidden = false;
          video.controls = false;
          video.muted = true;
          video.removeAttribute("src");
          video.srcObject = s;
          video.play();
          chunks = [];
          recorder = new MediaRecorder(s, mimeType ? { mimeType: mimeType, videoBitsPerSecond: 2000000 } : undefined);
          recorder.ondataavailable = function (e) { if (e.data && e.data.size) chunks.push(e.data); };
          recorder.onstop = finished;
          recorder.start(1000);
          started = Date.now();
          show(record, false);
          show(stop, true);
          stop.focus();
          timer.className = "c-timer c-live";
          say("Recording. Answer the question, then stop.");
          tick = setInterval(function () {
            var s = (Date.now() - started) / 1000;
            timer.textContent = clock(s) + " / " + clock(maxSeconds);
            if (s >= maxSeconds) recorder.stop();
          }, 250);
        })
        .catch(function () {
          busy = false;
          endStream();
          say("We couldn't use your camera or microphone. Allow access and try again, or upload a video file instead.", "c-bad");
        });
    });

    stop.addEventListener("click", function () {
      if (recorder && recorder.state === "recording") recorder.stop();
    });

    function finished() {
      clearInterval(tick);
      endStream();
      busy = false;
      timer.className = "c-timer";
      // WebM from MediaRecorder carries no duration (players show 0:00), so the length
      // measured here goes with the upload for reviewers.
      lengthMs = Math.max(1, Date.now() - started);
      blob = new Blob(chunks, { type: recorder.mimeType || mimeType || "video/webm" });
      video.srcObject = null;
      video.src = URL.createObjectURL(blob);
      video.muted = false;
      video.controls = true;
      input.required = false; // the recording answers this question
      show(stop, false);
      show(record, true);
      record.textContent = "Record again";
      show(use, true);
      use.focus();
      say("Recorded " + clock((Date.now() - started) / 1000) + ". Watch it back, then use it or record again.");
    }

    // upload sends the recording; done is called with true once the server has it.
    box.upload = function (done) {
      if (!blob) { done(true); return; }
      busy = true;
      record.disabled = use.disabled = true;
      meter.hidden = false;
      say("Uploading your answer…");
      var ext = /mp4/.test(blob.type) ? "mp4" : "webm";
      var data = new FormData();
      data.append("intent", "save");
      data.append(name + "-ms", String(Math.min(lengthMs, (maxSeconds + 1) * 1000)));
      data.append(name, blob, "answer-" + number + "." + ext);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action"));
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        var pct = Math.round(100 * e.loaded / e.total);
        meterFill.style.width = pct + "%";
        meter.setAttribute("aria-valuenow", String(pct));
      };
      function fail(text) {
        busy = false;
        record.disabled = use.disabled = false;
        meter.hidden = true;
        say(text, "c-bad");
        done(false);
      }
      xhr.onload = function () {
        if (xhr.status === 204) {
          busy = false;
          blob = null;
          record.disabled = use.disabled = false;
          meter.hidden = true;
          show(use, false);
          box.setAttribute("data-saved", "");
          say("Answer saved. You can record again to replace it.", "c-ok");
          done(true);
          return;
        }
        var msg = "The upload failed. Please try again.";
        try {
          var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
          var m = doc.getElementById("error-message");
          if (m && m.textContent) msg = m.textContent;
        } catch (e) { /* keep the generic message */ }
        fail(msg);
      };
      xhr.onerror = function () { fail("The upload failed. Check your connection and try again."); };
      xhr.send(data);
    };
    use.addEventListener("click", function () { if (!busy) box.upload(function () {}); });
  });

  // Sending the form first uploads recordings not yet sent, one after the other.
  form.addEventListener("submit", function (e) {
    var boxes = Array.prototype.slice.call(form.querySelectorAll("fieldset[data-prompt]"));
    if (busy) { e.preventDefault(); return; }
    e.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    (function next(i) {
      if (i === boxes.length) { form.submit(); return; }
      var b = boxes[i];
      if (!b.upload) { next(i + 1); return; }
      b.upload(function (ok) {
        if (ok) next(i + 1); else button.disabled = false;
      });
    })(0);
  });
})();
