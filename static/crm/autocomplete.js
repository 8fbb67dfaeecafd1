// Search-as-you-type selects (tom-select over our JSON endpoints) and the caller lookup.
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

  function enhance(select) {
    if (select.tomselect) { return select.tomselect; }
    var url = select.getAttribute("data-autocomplete-url");
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
        var account = document.getElementById("id_account");
        if (select.id === "id_contact" && account && account.value) { params.set("account", account.value); }
        fetch(url + "?" + params.toString(), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.json(); })
          .then(function (data) { callback(data.results); })
          .catch(function () { callback(); });
      },
      render: { no_results: function () { return '<div class="no-results">' + (select.dataset.noResults || "No match") + "</div>"; } }
    });
    nameOriginal(select);
    return widget;
  }

  function choose(select, id, text) {
    if (!select || !id) { return; }
    var widget = select.tomselect;
    if (widget) {
      widget.addOption({ id: id, text: text });
      widget.setValue(String(id));
    } else {
      var option = new Option(text, id, true, true);
      select.appendChild(option);
    }
  }

  function setupCallerLookup() {
    var input = document.getElementById("caller-phone");
    var results = document.getElementById("caller-results");
    if (!input || !results) { return; }
    var timer = null;
    function lookupSoon() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var value = input.value.trim();
        results.textContent = "";
        if (value.replace(/\D/g, "").length < 6) { return; }
        fetch(input.dataset.lookupUrl + "?phone=" + encodeURIComponent(value), { credentials: "same-origin" })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            results.textContent = "";
            if (!data.phone) { results.textContent = input.dataset.invalid || "Not a valid number yet."; return; }
            if (!data.results.length) { results.textContent = (input.dataset.none || "No customer has") + " " + data.phone; return; }
            data.results.forEach(function (hit) {
              var button = document.createElement("button");
              button.type = "button";
              button.className = "btn btn-sm btn-outline-primary me-1 mt-1 caller-hit";
              button.textContent = hit.text || [hit.contact_text, hit.account_text].filter(Boolean).join(" · ");
              button.addEventListener("click", function () {
                choose(document.getElementById("id_account"), hit.account, hit.account_text);
                choose(document.getElementById("id_contact"), hit.contact, hit.contact_text);
                // A lead is a hidden field of the call form: the call is then about that lead.
                var lead = document.getElementById("id_lead");
                if (lead && hit.lead) { lead.value = hit.lead; }
                var subject = document.getElementById("id_subject");
                if (subject && !subject.value) { subject.value = (input.dataset.subjectPrefix || "Call:") + " " + (hit.contact_text || hit.account_text || hit.lead_text); }
              });
              results.appendChild(button);
            });
          });
      }, 300);
    }
    input.addEventListener("input", lookupSoon);
    // A number typed (or pasted by the browser) before this script ran is looked up too.
    if (input.value.trim()) { lookupSoon(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-autocomplete-url]").forEach(enhance);
    setupCallerLookup();
  });
})();
