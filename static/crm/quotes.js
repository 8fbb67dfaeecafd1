// Quote lines: the product picker (tom-select over sales:product_autocomplete, with the quote's
// price book) fills the line's name, unit, unit price and tax rate from the chosen product.
(function () {
  "use strict";

  // tom-select moves the label to its own input; the original select (still read by screen readers)
  // keeps the same name.
  function nameOriginal(select) {
    var label = document.querySelector('label[for="' + select.id + '-ts-control"]') || (select.labels && select.labels[0]);
    if (label && !select.getAttribute("aria-label")) { select.setAttribute("aria-label", label.textContent.trim()); }
  }

  function fill(form, product) {
    if (!product) { return; }
    var fields = { name: product.name, unit: product.unit, unit_price: product.unit_price, tax_rate: product.tax_rate };
    Object.keys(fields).forEach(function (name) {
      var input = form.querySelector("[name='" + name + "']");
      if (input && fields[name] !== undefined && fields[name] !== null) { input.value = fields[name]; }
    });
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
    var url = select.getAttribute("data-product-url");
    var priceBook = select.getAttribute("data-price-book");
    var form = select.closest("form");
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
        if (priceBook) { params.set("price_book", priceBook); }
        fetch(url + "?" + params.toString(), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.json(); })
          .then(function (data) { callback(data.results); })
          .catch(function () { callback(); });
      },
      render: { no_results: function () { return '<div class="no-results">' + (select.dataset.noResults || "No match") + "</div>"; } }
    });
    nameOriginal(select);
    widget.on("change", function (value) {
      if (value && form) { fill(form, widget.options[value]); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-product-url]").forEach(enhance);
  });
})();
