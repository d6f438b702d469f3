// Small enhancements for every page; each works without this file too.
(function () {
  "use strict";

  // Offer to show times in the zone the device's clock is in, when the server does not
  // know it yet (or knows another one), unless the reader said no on this device.
  var offer = document.getElementById("timezone-offer");
  if (!offer || !window.Intl) return;
  var detected;
  try {
    detected = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  var known = offer.dataset.viewerZone;
  var declined = null;
  try { declined = localStorage.getItem("turnout.timezone-declined"); } catch (error) {}
  if (!detected || detected === known || detected === declined || detected === "UTC") return;
  offer.querySelector("input[name=timezone]").value = detected;
  offer.querySelector("[data-zone-name]").textContent = detected;
  offer.hidden = false;
  offer.querySelector("[data-dismiss-offer]").addEventListener("click", function () {
    try { localStorage.setItem("turnout.timezone-declined", detected); } catch (error) {}
    offer.hidden = true;
  });
})();
