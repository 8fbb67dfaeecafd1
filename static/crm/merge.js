// Merging duplicates: the multiple search-as-you-type picker and "use all values of a record".
// Loaded before crm/autocomplete.js, so the picker is set up here (with remove buttons and a
// limit) and autocomplete.js leaves it alone (it skips selects that already have a tom-select).
(function () {
  "use strict";

  // tom-select moves the label to its own input; the original select (still read by screen readers)
  // keeps the same name.
  function nameOriginal(select) {
    var label = document.querySelector('label[for="' + select.id + '-ts-control"]') || (select.labels && select.labels[0]);
    if (label && !select.getAttribute("aria-label")) { select.setAttribute("aria-label", label.textContent.trim()); }
  }

  // With a choice made, tom-select hides its search input and cancels a paste into it; a pasted
  // name should search instead (a paste-refusing input also costs the Lighthouse best-practices score).
  function allowPaste() {
    var proto = window.TomSelect && window.TomSelect.prototype;
    if (!proto || proto.crmPasteAllowed) { return; }
    var original = proto.onPaste;
    proto.onPaste = function (event) {
      if (this.isInputHidden && !this.isLocked) {
        this.isInputHidden = false;
        this.wrapper.classList.remove("input-hidden");
      }
      return original.call(this, event);
    };
    proto.crmPasteAllowed = true;
  }

  function setupPicker(select) {
    if (select.tomselect) { return; }
    var url = select.getAttribute("data-autocomplete-url");
    var exclude = select.getAttribute("data-exclude");
    allowPaste();
    new TomSelect(select, {
      valueField: "id",
      labelField: "text",
      searchField: [],
      maxItems: parseInt(select.getAttribute("data-max-items") || "9", 10),
      maxOptions: 20,
      loadThrottle: 250,
      preload: "focus",
      hideSelected: true,
      closeAfterSelect: true,
      plugins: { remove_button: { title: select.getAttribute("data-remove-label") || "Remove" } },
      load: function (query, callback) {
        fetch(url + "?" + new URLSearchParams({ q: query }).toString(),
              { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            // The record being merged into cannot be merged with itself.
            callback(data.results.filter(function (row) { return String(row.id) !== exclude; }));
          })
          .catch(function () { callback(); });
      },
      render: {
        no_results: function () {
          var div = document.createElement("div");
          div.className = "no-results";
          div.textContent = select.getAttribute("data-no-results") || "No match";
          return div;
        }
      }
    });
    nameOriginal(select);
  }

  // Consent radios are left alone: consent is only ever chosen one by one, on purpose.
  function setupColumnButtons() {
    document.querySelectorAll("[data-merge-column]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var pk = button.getAttribute("data-merge-column");
        document.querySelectorAll('#merge-form input[type="radio"][data-record="' + pk + '"]').forEach(function (radio) {
          if (!radio.hasAttribute("data-explicit")) { radio.checked = true; }
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-merge-picker]").forEach(setupPicker);
    setupColumnButtons();
  });
})();
