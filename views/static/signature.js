/* The tablet page of the 技术服务单.
 *
 * Signature pads: <canvas class="signature-pad" data-signature-input="<hidden input id>">.
 * Pointer events cover mouse, pen and touch; plain touch events are a fallback for old
 * tablets. On submit the drawing goes into the hidden input as a PNG data: URL (empty when
 * nothing was drawn).
 *
 * Keep-alive: a form with data-keepalive-url posts there (with the page's CSRF token in the
 * X-CSRFToken header) every data-keepalive-seconds while the page is open, so the session and
 * its CSRF token outlive the 30 idle minutes a form may take on site. If the session has
 * ended anyway, a warning says so.
 *
 * Draft: a form with data-draft-key keeps what was typed and picked (not the signatures, not
 * hidden fields) in sessionStorage, and puts it back when the page is loaded again (a reload,
 * a new login after an expired session); a new version has a new key, so a finished form's
 * draft is not offered again.
 *
 * No inline script: this file is loaded by the page (CSP script-src 'self'). */
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
        try {
          canvas.setPointerCapture(e.pointerId);
        } catch (err) {
          // not an active pointer (e.g. a synthetic event): draw without capture
        }
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

  // --- keep-alive ----------------------------------------------------------------------
  function setupKeepAlive(form) {
    var url = form.getAttribute("data-keepalive-url");
    var tokenInput = form.querySelector('input[name="csrf_token"]');
    if (!url || !tokenInput || !window.fetch) { return; }
    var every = Math.max(parseInt(form.getAttribute("data-keepalive-seconds"), 10) || 300, 30) * 1000;
    var warning = document.getElementById("session-warning");
    var last = Date.now();

    function warn(text) {
      if (!warning) { return; }
      warning.textContent = text;
      warning.hidden = !text;
    }

    function ping() {
      last = Date.now();
      fetch(url, {
        method: "POST",
        headers: { "X-CSRFToken": tokenInput.value },
        credentials: "same-origin",
        cache: "no-store",
        redirect: "manual" // an ended session answers with a redirect to the login page
      }).then(function (resp) {
        if (resp.status === 204) {
          warn("");
        } else {
          warn("登录已过期：请在新标签页重新登录，然后刷新本页再提交。已填写的内容保存在本页草稿中，刷新后自动恢复（签名需重新书写）。");
        }
      }, function () {
        warn("暂时无法连接服务器。已填写的内容保存在本页草稿中；网络恢复后再提交。");
      });
    }

    setInterval(ping, every);
    // A tablet that slept stops timers: check at once when the page is shown again.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && Date.now() - last >= every) { ping(); }
    });
  }

  // --- the draft in sessionStorage ------------------------------------------------------
  var DRAFT_PREFIX = "aftersales:draft:";

  function storage() {
    try {
      var s = window.sessionStorage;
      s.setItem(DRAFT_PREFIX + "probe", "1");
      s.removeItem(DRAFT_PREFIX + "probe");
      return s;
    } catch (err) {
      return null; // storage off or full: no draft, the form still works
    }
  }

  function draftFields(form) {
    var out = [];
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      var tag = el.tagName;
      if (!el.name || el.disabled || el.name === "csrf_token") { continue; }
      if (tag === "INPUT") {
        var type = (el.type || "text").toLowerCase();
        if (["hidden", "submit", "button", "reset", "file", "password", "image"].indexOf(type) >= 0) { continue; }
      } else if (tag !== "TEXTAREA" && tag !== "SELECT") {
        continue;
      }
      out.push(el);
    }
    return out;
  }

  function readDraft(form) {
    var data = {};
    draftFields(form).forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (!(el.name in data)) { data[el.name] = null; }
        if (el.checked) { data[el.name] = el.value; }
      } else {
        data[el.name] = el.value;
      }
    });
    return data;
  }

  function applyDraft(form, data) {
    var changed = false;
    draftFields(form).forEach(function (el) {
      if (!Object.prototype.hasOwnProperty.call(data, el.name)) { return; }
      var value = data[el.name];
      if (el.type === "radio" || el.type === "checkbox") {
        var on = value !== null && el.value === value;
        if (el.checked !== on) { el.checked = on; changed = true; }
      } else if (typeof value === "string" && el.value !== value) {
        el.value = value;
        changed = true;
      }
    });
    return changed;
  }

  function setupDraft(form) {
    var id = form.getAttribute("data-draft-key");
    var store = id && storage();
    if (!store) { return; }
    var key = DRAFT_PREFIX + id;
    var family = key.replace(/:[^:]*$/, ":"); // the same form's drafts of other versions
    for (var i = store.length - 1; i >= 0; i--) {
      var k = store.key(i);
      if (k && k !== key && k.indexOf(family) === 0) { store.removeItem(k); }
    }

    var saved = null;
    try { saved = JSON.parse(store.getItem(key) || "null"); } catch (err) { saved = null; }
    if (saved && typeof saved === "object" && applyDraft(form, saved)) {
      var notice = document.getElementById("draft-notice");
      if (notice) { notice.hidden = false; }
    }

    function save() {
      try { store.setItem(key, JSON.stringify(readDraft(form))); } catch (err) { /* full: keep going */ }
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    save();

    var discard = document.getElementById("draft-discard");
    if (discard) {
      discard.addEventListener("click", function () {
        store.removeItem(key);
        form.removeEventListener("input", save);
        form.removeEventListener("change", save);
        window.location.assign(window.location.pathname); // a fresh GET of the form
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var pads = document.querySelectorAll("canvas.signature-pad[data-signature-input]");
    for (var i = 0; i < pads.length; i++) { setupPad(pads[i]); }
    var forms = document.querySelectorAll("form[data-keepalive-url], form[data-draft-key]");
    for (var j = 0; j < forms.length; j++) {
      if (forms[j].hasAttribute("data-draft-key")) { setupDraft(forms[j]); }
      if (forms[j].hasAttribute("data-keepalive-url")) { setupKeepAlive(forms[j]); }
    }
  });
})();
