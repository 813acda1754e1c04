// 登记来电: the chosen customer's known contacts as one-tap buttons that fill the caller's
// name and phone (6.1.1). The form works the same without this script (type them in).
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form || !form.dataset.known) { return; }
  var known = JSON.parse(form.dataset.known);
  var select = form.querySelector("#customer_id");
  var serial = form.querySelector("#product_serial");
  var box = document.getElementById("contact-choices");
  var buttons = document.getElementById("contact-buttons");
  var name = form.querySelector("#caller_name");
  var phone = form.querySelector("#caller_phone");

  function customerId() {
    if (select && select.value && select.value !== "0") { return select.value; }
    var s = serial ? serial.value.trim() : "";
    return (known.products || {})[s] || "";
  }

  var shown = null;

  function show() {
    var id = customerId();
    if (id === shown) { return; }  // unchanged: keep the buttons (a rebuild on blur would eat the tap)
    shown = id;
    var list = (known.contacts || {})[id] || [];
    buttons.textContent = "";
    list.forEach(function (c) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-outline-secondary btn-sm";
      b.dataset.contactName = c.name;
      b.dataset.contactPhone = c.phone;
      b.textContent = c.name + " " + c.phone;
      buttons.appendChild(b);
    });
    box.hidden = list.length === 0;
  }

  buttons.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-contact-name]");
    if (!b) { return; }
    name.value = b.dataset.contactName;
    phone.value = b.dataset.contactPhone;
  });
  if (select) { select.addEventListener("change", show); }
  if (serial) { serial.addEventListener("change", show); serial.addEventListener("input", show); }
  show();
})();
