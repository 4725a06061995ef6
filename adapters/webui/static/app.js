// Small enhancements; every page works without them.
(function () {
  "use strict";
  // A countdown to when another code may be requested.
  var resend = document.getElementById("resend");
  if (resend && resend.dataset.at) {
    var at = Number(resend.dataset.at) * 1000;
    var form = resend.closest("form");
    var button = form && form.querySelector("button");
    var tick = function () {
      var left = Math.ceil((at - Date.now()) / 1000);
      if (button) button.disabled = left > 0;
      if (left <= 0) return;
      resend.setAttribute("aria-live", "off");
      resend.dataset.left = left;
      setTimeout(tick, 1000);
    };
    tick();
  }
  // A preview of the chosen scan before it is uploaded.
  var file = document.getElementById("file");
  var preview = document.getElementById("preview");
  if (file && preview && window.URL) {
    file.addEventListener("change", function () {
      if (file.files && file.files[0]) {
        preview.src = URL.createObjectURL(file.files[0]);
        preview.hidden = false;
      } else {
        preview.hidden = true;
      }
    });
  }
  // Move focus to a problem shown after a post, so it is read out.
  var problem = document.getElementById("problem");
  if (problem) {
    problem.setAttribute("tabindex", "-1");
    problem.focus();
  }
})();
