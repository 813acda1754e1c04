/* Signature pads: <canvas class="signature-pad" data-signature-input="<hidden input id>">.
 * Pointer events cover mouse, pen and touch; plain touch events are a fallback for old
 * tablets. On submit the drawing goes into the hidden input as a PNG data: URL (empty when
 * nothing was drawn). No inline script: this file is loaded by the page (CSP script-src 'self'). */
(function () {
  "use strict";

  function setupPad(canvas) {
    var input = document.getElementById(canvas.getAttribute("data-signature-input"));
    var ctx = canvas.getContext("2d");
    var drawing = false, last = null, inked = false;
    canvas.style.touchAction = "none"; // no scrolling or zooming while signing

    function resize() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var keep = inked ? canvas.toDataURL("image/png") : null;
      canvas.width = Math.round(canvas.clientWidth * ratio);
      canvas.height = Math.round(canvas.clientHeight * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#000";
      if (keep) { drawImage(keep); }
    }

    function drawImage(src) {
      var img = new Image();
      img.onload = function () {
        ctx.drawImage(img, 0, 0, canvas.clientWidth, canvas.clientHeight);
        inked = true;
      };
      img.src = src;
    }

    function point(e) {
      var r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    }

    function start(p) { drawing = true; last = p; dot(p); }
    function move(p) {
      if (!drawing) { return; }
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
      inked = true;
    }
    function end() { drawing = false; last = null; }
    function dot(p) {
      ctx.beginPath();
      ctx.arc(p.x, p.y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fillStyle = "#000";
      ctx.fill();
      inked = true;
    }

    if (window.PointerEvent) {
      canvas.addEventListener("pointerdown", function (e) {
        e.preventDefault();
        canvas.setPointerCapture(e.pointerId);
        start(point(e));
      });
      canvas.addEventListener("pointermove", function (e) {
        if (!drawing) { return; }
        e.preventDefault();
        var events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
        if (!events.length) { events = [e]; }
        for (var i = 0; i < events.length; i++) { move(point(events[i])); }
      });
      ["pointerup", "pointercancel", "pointerleave"].forEach(function (t) {
        canvas.addEventListener(t, end);
      });
    } else {
      canvas.addEventListener("mousedown", function (e) { start(point(e)); });
      canvas.addEventListener("mousemove", function (e) { move(point(e)); });
      window.addEventListener("mouseup", end);
      canvas.addEventListener("touchstart", function (e) { e.preventDefault(); start(point(e.touches[0])); }, { passive: false });
      canvas.addEventListener("touchmove", function (e) { e.preventDefault(); move(point(e.touches[0])); }, { passive: false });
      canvas.addEventListener("touchend", end);
    }

    var clear = document.querySelector('[data-signature-clear="' + canvas.id + '"]');
    if (clear) {
      clear.addEventListener("click", function () {
        ctx.save();
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        ctx.restore();
        inked = false;
        if (input) { input.value = ""; }
      });
    }

    var form = canvas.closest("form");
    if (form && input) {
      form.addEventListener("submit", function () {
        input.value = inked ? canvas.toDataURL("image/png") : "";
      });
    }

    resize();
    if (input && input.value.indexOf("data:image/png;base64,") === 0) {
      drawImage(input.value); // redisplay after a refused submit
    }
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(resize, 150);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var pads = document.querySelectorAll("canvas.signature-pad[data-signature-input]");
    for (var i = 0; i < pads.length; i++) { setupPad(pads[i]); }
  });
})();
