// The check-in page, enhanced: codes are sent with fetch() and answered in JSON, the
// counter refreshes itself, and where the browser has BarcodeDetector the camera
// reads QR codes. Without this script the form posts and the page comes back with
// the result. Every word shown comes from the page or the server (translated there).
(function () {
  "use strict";

  const form = document.getElementById("checkin-form");
  if (!form || !window.fetch) {
    return;
  }
  const input = form.elements.code;
  const result = document.getElementById("checkin-result");
  const checkedIn = document.querySelector("[data-checked-in]");
  const confirmed = document.querySelector("[data-confirmed]");
  const csrfToken = form.elements.csrfmiddlewaretoken.value;
  const STATS_EVERY_MS = 5000;
  // The camera sees the same code many times a second: it is sent once, and again
  // only after this long.
  const SAME_CODE_AGAIN_MS = 4000;
  let sending = false;
  // After "too many attempts" (HTTP 429) the camera sends nothing until the server's
  // Retry-After has passed; a typed code still goes, and the server answers it.
  let pausedUntil = 0;

  function show(outcome) {
    const tone = outcome.ok ? (outcome.first ? "success" : "warning") : "danger";
    const panel = document.createElement("div");
    panel.className = "alert alert-" + tone + " mb-0";
    panel.dataset.status = outcome.status;
    const headline = document.createElement("p");
    headline.className = "checkin-headline fw-bold mb-1";
    headline.textContent = outcome.headline;
    const message = document.createElement("p");
    message.className = "fs-4 mb-0";
    message.textContent = outcome.message;
    panel.append(headline, message);
    result.replaceChildren(panel);
  }

  async function refreshStats() {
    try {
      const response = await fetch(form.dataset.statsUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) {
        return;
      }
      const stats = await response.json();
      checkedIn.textContent = stats.checked_in;
      confirmed.textContent = stats.confirmed;
    } catch (error) {
      // Offline for a moment: the next poll tries again.
    }
  }

  async function send(code) {
    if (sending) {
      return;
    }
    sending = true;
    const data = new FormData(form);
    data.set("code", code);
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: data,
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken },
        credentials: "same-origin",
      });
      if (response.redirected) {
        // Signed out meanwhile: reloading leads to the sign-in page and back here.
        window.location.reload();
        return;
      }
      const type = response.headers.get("Content-Type") || "";
      if (!type.startsWith("application/json")) {
        throw new Error("HTTP " + response.status);
      }
      const outcome = await response.json();
      if (response.status === 429) {
        const seconds = parseInt(response.headers.get("Retry-After"), 10) || 60;
        pausedUntil = Date.now() + seconds * 1000;
      }
      show(outcome);
      if (outcome.ok) {
        input.value = ""; // ready for the next person
      } else {
        input.select(); // a refused code stays, to be checked or typed over
      }
    } catch (error) {
      show({
        ok: false,
        status: "network",
        headline: form.dataset.failedHeadline,
        message: form.dataset.failedMessage,
      });
    } finally {
      sending = false;
      refreshStats();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value);
    input.focus();
  });

  setInterval(function () {
    if (!document.hidden) {
      refreshStats();
    }
  }, STATS_EVERY_MS);

  // The camera ----------------------------------------------------------------------
  const scanButton = document.getElementById("checkin-scan");
  const video = document.getElementById("checkin-video");
  if (
    !("BarcodeDetector" in window) ||
    !navigator.mediaDevices ||
    !navigator.mediaDevices.getUserMedia
  ) {
    return;
  }

  let detector = null;
  let stream = null;
  let lastCode = "";
  let lastCodeAt = 0;

  function stopCamera() {
    if (stream) {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
    }
    stream = null;
    video.srcObject = null;
    video.hidden = true;
    scanButton.textContent = form.dataset.scanLabel;
    scanButton.setAttribute("aria-pressed", "false");
  }

  async function detectFrame() {
    if (!stream) {
      return;
    }
    const paused = Date.now() < pausedUntil;
    if (video.readyState >= video.HAVE_CURRENT_DATA && !sending && !paused) {
      try {
        const codes = await detector.detect(video);
        const now = Date.now();
        if (codes.length) {
          const code = codes[0].rawValue;
          if (code !== lastCode || now - lastCodeAt > SAME_CODE_AGAIN_MS) {
            lastCode = code;
            lastCodeAt = now;
            input.value = code;
            send(code);
          }
        }
      } catch (error) {
        // A frame the detector could not read: try the next one.
      }
    }
    requestAnimationFrame(detectFrame);
  }

  async function startCamera() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment" },
        audio: false,
      });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      scanButton.textContent = form.dataset.stopLabel;
      scanButton.setAttribute("aria-pressed", "true");
      requestAnimationFrame(detectFrame);
    } catch (error) {
      stopCamera();
      show({
        ok: false,
        status: "camera",
        headline: form.dataset.failedHeadline,
        message: form.dataset.cameraFailed,
      });
    }
  }

  BarcodeDetector.getSupportedFormats()
    .then(function (formats) {
      if (!formats.includes("qr_code")) {
        return;
      }
      detector = new BarcodeDetector({ formats: ["qr_code"] });
      scanButton.hidden = false;
      scanButton.setAttribute("aria-pressed", "false");
      scanButton.addEventListener("click", function () {
        if (stream) {
          stopCamera();
        } else {
          startCamera();
        }
      });
    })
    .catch(function () {
      // No detector after all: typing the code still works.
    });
})();
