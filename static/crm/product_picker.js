// The product picker: a search-as-you-type select over sales:product_autocomplete. It asks for
// prices from the price book chosen in the same form, and fills the unit price and tax rate of
// the line being added. Works on content htmx swaps in (opportunity lines).
(function () {
  "use strict";

  // tom-select moves the label to its own input; the original select (still read by screen readers)
  // keeps the same name.
  function nameOriginal(select) {
    var label = document.querySelector('label[for="' + select.id + '-ts-control"]') || (select.labels && select.labels[0]);
    if (label && !select.getAttribute("aria-label")) { select.setAttribute("aria-label", label.textContent.trim()); }
  }

  var script = document.currentScript;
  var tomSelectSrc = script && script.getAttribute("data-tom-select");
  var waiting = null;

  function withTomSelect(callback) {
    if (window.TomSelect) { callback(); return; }
    if (!tomSelectSrc) { return; }
    if (!waiting) {
      waiting = [];
      var loader = document.createElement("script");
      loader.src = tomSelectSrc;
      loader.onload = function () { var queued = waiting; waiting = null; queued.forEach(function (fn) { fn(); }); };
      document.head.appendChild(loader);
    }
    waiting.push(callback);
  }

  function field(form, suffix) {
    return form ? form.querySelector('[name$="' + suffix + '"]') : null;
  }

  function fill(select, product) {
    var form = select.form;
    if (!form || !product) { return; }
    var price = field(form, "unit_price");
    var tax = field(form, "tax_rate");
    if (price) { price.value = product.unit_price; }
    if (tax) { tax.value = product.tax_rate; }
    var info = form.querySelector("[data-product-info]");
    if (info) {
      var text = product.unit ? product.unit_price + " " + product.currency + " / " + product.unit : "";
      if (form.dataset.currency && product.currency && form.dataset.currency !== product.currency) {
        text = (info.dataset.otherCurrency || "") + " " + text;
        info.classList.add("text-warning-emphasis");
      } else {
        info.classList.remove("text-warning-emphasis");
      }
      info.textContent = text;
    }
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

  function enhance(select) {
    if (select.tomselect) { return; }
    var url = select.getAttribute("data-product-picker-url");
    var book = field(select.form, "price_book");
    allowPaste();
    var widget = new TomSelect(select, {
      valueField: "id",
      labelField: "text",
      searchField: [],
      maxOptions: 20,
      loadThrottle: 250,
      preload: "focus",
      allowEmptyOption: true,
      load: function (query, callback) {
        var params = new URLSearchParams({ q: query });
        if (book && book.value) { params.set("price_book", book.value); }
        fetch(url + "?" + params.toString(), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.json(); })
          .then(function (data) { callback(data.results); })
          .catch(function () { callback(); });
      },
      onChange: function (value) { fill(select, widget.options[value]); },
      render: { no_results: function () { return '<div class="no-results">' + (select.dataset.noResults || "No match") + "</div>"; } }
    });
    nameOriginal(select);
    if (book) {
      // Another price book: other prices. Forget the loaded options and the choice.
      book.addEventListener("change", function () {
        widget.clear();
        widget.clearOptions();
        widget.loadedSearches = {};
      });
    }
  }

  function init(root) {
    if (!root || !root.querySelectorAll) { return; }
    root.querySelectorAll("select[data-product-picker-url]").forEach(function (select) {
      withTomSelect(function () { enhance(select); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
})();
