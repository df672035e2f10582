/* Progressive enhancement for the reviewers' pages. Everything works without it. */
(function () {
  "use strict";

  /* Inbox: "select all" ticks every case checkbox of the bulk form. */
  function wireSelectAll() {
    document.querySelectorAll("[data-select-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        var form = document.getElementById(box.getAttribute("data-select-all"));
        if (!form) return;
        form.querySelectorAll("input[name=ids]").forEach(function (c) { c.checked = box.checked; });
      });
    });
  }

  /* 申报书: add and remove product rows in place. The last row is a template. */
  function renumber(tbody) {
    tbody.querySelectorAll("tr[data-product-row]").forEach(function (tr, n) {
      function shift(value) { return value.replace(/products-\d+-/g, "products-" + n + "-"); }
      tr.querySelectorAll("input").forEach(function (input) {
        input.name = shift(input.name);
        input.id = input.name;
      });
      /* each input and button is named by its column and its row number */
      tr.querySelectorAll("[id]").forEach(function (el) { el.id = shift(el.id); });
      ["aria-labelledby", "aria-describedby"].forEach(function (attr) {
        tr.querySelectorAll("[" + attr + "]").forEach(function (el) {
          el.setAttribute(attr, shift(el.getAttribute(attr)));
        });
      });
      var idx = tr.querySelector("[data-row-number]");
      if (idx) idx.textContent = String(n + 1);
    });
  }

  function wireProducts() {
    var table = document.querySelector("table[data-products]");
    if (!table) return;
    var tbody = table.querySelector("tbody");
    var add = document.querySelector("[data-add-product]");
    if (add) {
      add.addEventListener("click", function (ev) {
        ev.preventDefault();
        var rows = tbody.querySelectorAll("tr[data-product-row]");
        var last = rows[rows.length - 1];
        var fresh = last.cloneNode(true);
        fresh.querySelectorAll("input").forEach(function (i) { i.value = ""; });
        fresh.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
        fresh.querySelectorAll(".invalid").forEach(function (e) { e.classList.remove("invalid"); });
        fresh.querySelectorAll("[aria-invalid]").forEach(function (e) {
          e.removeAttribute("aria-invalid");
          e.removeAttribute("aria-describedby");
        });
        tbody.appendChild(fresh);
        renumber(tbody);
        var first = fresh.querySelector("input");
        if (first) first.focus();
      });
    }
    tbody.addEventListener("click", function (ev) {
      var btn = ev.target.closest("[data-remove-product]");
      if (!btn) return;
      ev.preventDefault();
      var rows = tbody.querySelectorAll("tr[data-product-row]");
      var tr = btn.closest("tr");
      /* the keyboard stays in the table: on the row that takes its place, else the one above */
      var next = tr;
      if (rows.length <= 1) {
        tr.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      } else {
        next = tr.nextElementSibling || tr.previousElementSibling;
        tr.remove();
      }
      renumber(tbody);
      var input = next && next.querySelector("input");
      if (input) input.focus();
    });
  }

  /* 新基地 asks for an industry field, 重新认定 for the existing base's type; a table that
     depends on a field's value (a cluster's leading enterprises) shows only with it. */
  function wireKind() {
    var radios = document.querySelectorAll("input[name=kind]");
    if (!radios.length) return;
    function sync() {
      var kind = (document.querySelector("input[name=kind]:checked") || {}).value;
      document.querySelectorAll("[data-kind-only], [data-only-when-field]").forEach(function (el) {
        var only = el.getAttribute("data-kind-only");
        var hide = only !== null && only.split(" ").indexOf(kind) < 0;
        var field = el.getAttribute("data-only-when-field");
        var input = field && document.getElementById(field);
        if (input && input.value !== el.getAttribute("data-only-when-value")) hide = true;
        el.hidden = hide;
      });
    }
    radios.forEach(function (r) { r.addEventListener("change", sync); });
    document.querySelectorAll("[data-only-when-field]").forEach(function (el) {
      var input = document.getElementById(el.getAttribute("data-only-when-field"));
      if (input) input.addEventListener("change", sync);
    });
    sync();
  }

  /* 重新认定: the existing base's type follows the base picked from the register. */
  function wireBase() {
    var base = document.getElementById("existing_base_id");
    var type = document.getElementById("existing_base_type");
    if (!base || !type) return;
    base.addEventListener("change", function () {
      var picked = base.options[base.selectedIndex];
      if (picked && picked.getAttribute("data-type")) type.value = picked.getAttribute("data-type");
    });
  }

  /* A form sent back with problems: the summary is read first, and each of its links puts
     the keyboard in the field it names (WCAG 2.1 3.3.1). */
  function wireErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) return;
    summary.focus();
    summary.addEventListener("click", function (ev) {
      var link = ev.target.closest("a[href^='#']");
      var field = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!field) return;
      ev.preventDefault();
      var focusable = field.matches("input, select, textarea") ? field
        : field.querySelector("input, select, textarea");
      (field.closest(".field, fieldset, td") || field).scrollIntoView({block: "center"});
      if (focusable) focusable.focus({preventScroll: true});
    });
  }

  /* A table wider than the screen scrolls in its box: the box then takes the keyboard, so
     the arrow keys scroll it, and is named after its table's caption or heading (WCAG 2.1
     2.1.1, 1.4.10). Checked again when the window changes size. */
  var boxes = 0;
  function syncScrollingTables() {
    document.querySelectorAll(".table-wrap").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("data-scroll-focus", "");
        var caption = box.querySelector("caption");
        var card = box.closest("section, details, .card");
        var title = caption || (card && card.querySelector("h2, h3, summary"));
        if (title) {
          if (!title.id) title.id = "table-title-" + (++boxes);
          box.setAttribute("aria-labelledby", title.id);
        }
      } else if (!scrolls && box.hasAttribute("data-scroll-focus")) {
        ["tabindex", "role", "data-scroll-focus", "aria-labelledby"].forEach(function (a) {
          box.removeAttribute(a);
        });
      }
    });
  }


  /* Nothing typed is lost: a form marked data-keep copies what is typed into this browser
     (per user and form) until the server says it is saved (body data-kept-saved). When the
     session ended before a save, the form offers the copy back after logging in again. */
  var KEEP = "keep:";
  function keepStore() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function keptInputs(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && el.name !== "version" &&
        ["hidden", "file", "submit", "button", "password"].indexOf(el.type) < 0;
    });
  }

  function typedIn(form) {
    var values = {};
    keptInputs(form).forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) values[el.name] = el.value;
        else if (!(el.name in values)) values[el.name] = el.type === "radio" ? null : "";
      } else {
        values[el.name] = el.value;
      }
    });
    return values;
  }

  function fieldsNamed(form, name) {
    return keptInputs(form).filter(function (el) { return el.name === name; });
  }

  function putBack(form, values) {
    Object.keys(values).forEach(function (name) {
      var row = /^products-(\d+)-/.exec(name);
      var add = document.querySelector("[data-add-product]");
      while (row && add && !fieldsNamed(form, name).length &&
             form.querySelectorAll("tr[data-product-row]").length <= Number(row[1])) {
        add.click();
      }
      fieldsNamed(form, name).forEach(function (el) {
        if (el.type === "radio" || el.type === "checkbox") el.checked = el.value === values[name];
        else if (values[name] !== null) el.value = values[name];
        el.dispatchEvent(new Event("change", {bubbles: true}));
      });
    });
  }

  function differs(form, values) {
    var now = typedIn(form);
    return Object.keys(values).some(function (name) {
      return values[name] !== null && (now[name] || "") !== (values[name] || "");
    });
  }

  function forgetSaved(store, user) {
    var saved = (document.body.getAttribute("data-kept-saved") || "").split(" ");
    saved.filter(Boolean).forEach(function (key) {
      var exact = KEEP + user + ":" + key;
      for (var i = store.length - 1; i >= 0; i--) {
        var name = store.key(i);
        if (name === exact || name.indexOf(exact + ":") === 0) store.removeItem(name);
      }
    });
  }

  function offer(form, key, kept, store, done) {
    var tpl = document.getElementById("keep-offer");
    if (!tpl) { done(); return; }
    var box = tpl.content.firstElementChild.cloneNode(true);
    var when = box.querySelector("[data-keep-when]");
    if (when && kept.at) when.textContent = new Date(kept.at).toLocaleString();
    form.parentNode.insertBefore(box, form);
    box.querySelector("[data-keep-restore]").addEventListener("click", function () {
      putBack(form, kept.values);
      box.remove();
      var note = document.getElementById("keep-restored");
      if (note) {
        var shown = note.content.firstElementChild.cloneNode(true);
        form.parentNode.insertBefore(shown, form);
        shown.focus();
      }
      done();
      store.setItem(key, JSON.stringify({at: Date.now(), values: typedIn(form)}));
    });
    box.querySelector("[data-keep-discard]").addEventListener("click", function () {
      store.removeItem(key);
      box.remove();
      done();
    });
  }

  function wireKeep() {
    var store = keepStore();
    var user = document.body.getAttribute("data-user");
    if (!store || !user) return;
    forgetSaved(store, user);
    document.querySelectorAll("form[data-keep]").forEach(function (form) {
      var key = KEEP + user + ":" + form.getAttribute("data-keep");
      var deciding = false;  /* an offer on screen: its copy is not overwritten meanwhile */
      function keepNow() {
        if (!deciding) store.setItem(key, JSON.stringify({at: Date.now(), values: typedIn(form)}));
      }
      var kept = null;
      try { kept = JSON.parse(store.getItem(key) || "null"); } catch (e) { kept = null; }
      if (kept && kept.values && differs(form, kept.values)) {
        deciding = true;
        offer(form, key, kept, store, function () { deciding = false; });
      }
      ["input", "change", "submit"].forEach(function (type) {
        form.addEventListener(type, function (ev) { if (ev.isTrusted) keepNow(); });
      });
    });
  }

  /* Print button on the print view. */
  function wirePrint() {
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireSelectAll();
    wireProducts();
    wireKind();
    wireBase();
    wirePrint();
    wireErrorSummary();
    wireKeep();
    syncScrollingTables();
    window.addEventListener("resize", syncScrollingTables);
  });
})();
