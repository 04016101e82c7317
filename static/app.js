// Dev Center's few behaviours on top of server-rendered pages. Every page works without
// this file; it adds the dialog, Copy, and the pickers' Select All, filter and shortcuts.
(function () {
  "use strict";

  // htmx requests carry the page's CSRF token as a header.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRF-Token"] = meta.content;
  });

  // The dialog: opened when htmx fills it, focus moved inside, and returned on close.
  var opener = null;
  function dialog() { return document.getElementById("app-dialog"); }
  function dialogBody() { return document.getElementById("app-dialog-body"); }

  // A form refused (422) puts focus on its first field in error, whose message is read
  // with it (aria-describedby), or on its error summary.
  function firstError(root) {
    return root.querySelector('[aria-invalid="true"]:not([disabled])') ||
      root.querySelector('[data-error-summary], [role="alert"][tabindex="-1"]');
  }

  function focusInside(d) {
    var target = firstError(d) || d.querySelector("[data-initial-focus]") ||
      d.querySelector("input:not([type=hidden]):not([disabled]), select, textarea") ||
      d.querySelector("button, a[href]");
    if (target) target.focus();
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target && event.detail.target.id === "app-dialog-body") {
      opener = event.detail.elt;
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var d = dialog();
    if (!d || !dialogBody().firstElementChild) return;
    if (!d.open) d.showModal();
    var refused = event.detail && event.detail.xhr && event.detail.xhr.status === 422;
    if (refused || !d.contains(document.activeElement) || document.activeElement === d) focusInside(d);
    enhance(d);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var d = dialog();
    if (d) {
      // A key on screen is never shown again: leaving it takes "I have stored the API key".
      d.addEventListener("cancel", function (event) {
        if (d.querySelector(".key-view")) event.preventDefault();
      });
      d.addEventListener("close", function () {
        dialogBody().replaceChildren();
        if (opener && document.contains(opener)) opener.focus();
        opener = null;
      });
    }
    enhance(document);
    // On arrival, what needs reading first has focus: the first field a refused form
    // marked, or else the confirmation of what was just done (the flash).
    var main = document.getElementById("main");
    var first = main && (firstError(main) || main.querySelector("[data-flash]"));
    if (first) first.focus();
  });

  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-dialog]");
    var d = dialog();
    if (close && d && d.open && d.contains(close)) {
      event.preventDefault();
      d.close();
    }
    var copy = event.target.closest("[data-copy-target]");
    if (copy) copyKey(copy);
    var preset = event.target.closest("[data-expires-in]");
    if (preset) setExpiry(preset);
  });

  // An expiry preset fills the date field: N days from today (UTC, as Dev Center counts),
  // or empty for never. Without scripts the date field alone does the same.
  function setExpiry(button) {
    var field = button.closest(".field") && button.closest(".field").querySelector("input[name=expires_on]");
    if (!field) return;
    var days = button.getAttribute("data-expires-in");
    if (days === "") {
      field.value = "";
    } else {
      var date = new Date(Date.now() + Number(days) * 86400000);
      field.value = date.toISOString().slice(0, 10);
    }
    field.focus();
  }

  function copyKey(button) {
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    var status = button.closest(".key-view") && button.closest(".key-view").querySelector("[data-copy-status]");
    // What is copied, as the status names it: the key, or a client ID or secret.
    var what = button.getAttribute("data-copy-what") || "key";
    if (!source || !navigator.clipboard) {
      if (status) status.textContent = "Copying is not available here: select the " + what + " and copy it.";
      return;
    }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
      if (status) status.textContent = "The " + what + " is on your clipboard.";
    }, function () {
      if (status) status.textContent = "Copying was refused: select the " + what + " and copy it.";
    });
  }

  function enhance(root) {
    root.querySelectorAll("[data-expiry-presets]").forEach(function (presets) { presets.hidden = false; });
    root.querySelectorAll("[data-api-type]").forEach(enhanceTypeChoice);
    root.querySelectorAll("[data-endpoint-form]").forEach(enhancePicker);
  }

  // The dialog's submit button says what the chosen API type's option says it should
  // (data-submit-text, written by the server: "Manage Permissions" for Harvest).
  function enhanceTypeChoice(select) {
    if (select.dataset.enhanced) return;
    select.dataset.enhanced = "1";
    var form = select.form;
    function update() {
      var submit = form.querySelector("[data-submit-label]");
      var chosen = select.options[select.selectedIndex];
      if (submit && chosen && chosen.dataset.submitText) submit.textContent = chosen.dataset.submitText;
      var partner = form.querySelector("[data-partner-field]");
      if (partner) partner.hidden = select.value === "job_board";
    }
    select.addEventListener("change", update);
    update();
  }

  // A picker of endpoints, or of v3 scopes (data-picker-field="scopes"): the checkboxes of
  // that field inside the element marked data-endpoint-form.
  function enhancePicker(form) {
    if (form.dataset.enhanced) return;
    form.dataset.enhanced = "1";
    var field = form.getAttribute("data-picker-field") || "endpoints";
    var selectAll = form.querySelector("[data-select-all]");
    var filter = form.querySelector("[data-endpoint-filter]");
    var count = form.querySelector("[data-checked-count]");
    var readOnly = form.querySelector("[data-select-read-only]");
    var boxes = function (scope) { return Array.prototype.slice.call(scope.querySelectorAll('input[name="' + field + '"]')); };
    var shown = function (box) { return !box.closest("[data-endpoint]").hidden; };

    function refresh() {
      form.querySelectorAll("[data-resource-group]").forEach(function (group) {
        var own = boxes(group).filter(shown);
        var on = own.filter(function (b) { return b.checked; }).length;
        var toggle = group.querySelector("[data-select-resource]");
        toggle.checked = own.length > 0 && on === own.length;
        toggle.indeterminate = on > 0 && on < own.length;
      });
      var all = boxes(form).filter(shown);
      var on = all.filter(function (b) { return b.checked; }).length;
      if (selectAll) {
        selectAll.checked = all.length > 0 && on === all.length;
        selectAll.indeterminate = on > 0 && on < all.length;
      }
      if (count) count.textContent = boxes(form).filter(function (b) { return b.checked; }).length;
    }

    if (selectAll) {
      selectAll.addEventListener("change", function () {
        boxes(form).filter(shown).forEach(function (b) { b.checked = selectAll.checked; });
        refresh();
      });
    }
    form.querySelectorAll("[data-select-resource]").forEach(function (toggle) {
      toggle.addEventListener("change", function () {
        boxes(toggle.closest("[data-resource-group]")).filter(shown).forEach(function (b) { b.checked = toggle.checked; });
        refresh();
      });
    });
    form.addEventListener("change", function (event) {
      if (event.target.name === field) refresh();
    });
    // Read-only: exactly the scopes that open nothing but GETs, whatever the filter shows.
    if (readOnly) {
      readOnly.hidden = false;
      readOnly.addEventListener("click", function () {
        boxes(form).forEach(function (b) { b.checked = b.hasAttribute("data-read-only"); });
        refresh();
      });
    }
    if (filter) {
      filter.addEventListener("input", function () {
        var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
        form.querySelectorAll("[data-endpoint]").forEach(function (item) {
          var text = item.getAttribute("data-search");
          item.hidden = !words.every(function (w) { return text.indexOf(w) !== -1; });
        });
        form.querySelectorAll("[data-resource-group]").forEach(function (group) {
          group.hidden = boxes(group).filter(shown).length === 0;
        });
        // Say what the filter left, and what Select All will now select.
        var visible = boxes(form).filter(shown).length;
        var total = boxes(form).length;
        var status = form.querySelector("[data-filter-status]");
        var empty = form.querySelector("[data-filter-empty]");
        var label = form.querySelector("[data-select-all-label]");
        if (status) status.textContent = words.length ? visible + " of " + total + " " + field + " shown" : "";
        if (empty) empty.hidden = !(words.length && visible === 0);
        if (label) label.textContent = words.length ? "Select the " + visible + " shown" : "Select All";
        refresh();
      });
      // Enter in the filter box narrows the list; it must not submit the grants.
      filter.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault();
      });
    }
    refresh();
  }
})();
