// Small behaviours shared by every page. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function showToasts(root) {
    root.querySelectorAll(".toast").forEach(function (element) {
      bootstrap.Toast.getOrCreateInstance(element).show();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    showToasts(document);

    var toggle = document.getElementById("theme-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var root = document.documentElement;
        var next = root.getAttribute("data-bs-theme") === "dark" ? "light" : "dark";
        root.setAttribute("data-bs-theme", next);
        localStorage.setItem("crm-theme", next);
      });
    }

    // "Tick all" checkboxes: <input type="checkbox" data-select-all="ids"> ticks every name="ids" in its form.
    // Delegated, so it also works in fragments htmx swaps in later.
    document.addEventListener("change", function (event) {
      var master = event.target;
      if (!master.matches || !master.matches("[data-select-all]")) { return; }
      var form = master.closest("form") || document;
      form.querySelectorAll('input[type="checkbox"][name="' + master.dataset.selectAll + '"]').forEach(function (box) {
        box.checked = master.checked;
      });
    });

    // Confirmation prompts for dangerous buttons: <button data-confirm="Really?">.
    document.addEventListener("submit", function (event) {
      var button = event.submitter;
      var question = button && button.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
      }
    });
  });

  // A table that scrolls inside its box can be scrolled from the keyboard: it takes the focus.
  function focusableScrollers() {
    document.querySelectorAll(".table-wrap, .table-responsive").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      if (scrolls && !box.hasAttribute("tabindex")) { box.setAttribute("tabindex", "0"); }
      if (!scrolls && box.getAttribute("tabindex") === "0") { box.removeAttribute("tabindex"); }
    });
  }
  focusableScrollers();
  window.addEventListener("resize", focusableScrollers);
  document.addEventListener("htmx:afterSettle", focusableScrollers);

  // "Show all fields" on record pages: the empty fields are hidden until asked for.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-show-all]");
    if (!button) { return; }
    var facts = document.getElementById(button.getAttribute("data-show-all"));
    if (!facts) { return; }
    var open = facts.classList.toggle("show-all");
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? button.dataset.labelLess : button.dataset.labelMore;
  });

  // Form fields that matter only when a box is ticked (a contact's consent details) show with it.
  function revealDependents() {
    document.querySelectorAll("[data-revealed-by]").forEach(function (wrapper) {
      var box = document.getElementById(wrapper.getAttribute("data-revealed-by"));
      if (box) { wrapper.hidden = !box.checked; }
    });
  }
  revealDependents();
  document.addEventListener("change", function (event) {
    if (event.target.type === "checkbox") { revealDependents(); }
  });

  // "/" focuses the global search unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey) {
      var search = document.getElementById("global-search");
      if (search) {
        event.preventDefault();
        search.focus();
      }
    }
  });

  // Global search dropdown: arrows move through the hits, Esc closes it.
  document.addEventListener("keydown", function (event) {
    var dropdown = document.getElementById("search-dropdown");
    var search = document.getElementById("global-search");
    if (!dropdown || !search || !dropdown.classList.contains("show")) { return; }
    var hits = Array.prototype.slice.call(dropdown.querySelectorAll("a"));
    var index = hits.indexOf(document.activeElement);
    if (event.key === "ArrowDown") {
      event.preventDefault();
      (hits[index + 1] || hits[0]).focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (index <= 0) { search.focus(); } else { hits[index - 1].focus(); }
    } else if (event.key === "Escape") {
      dropdown.classList.remove("show");
      search.setAttribute("aria-expanded", "false");
      search.focus();
    }
  });

  // The results page: arrows move from hit to hit (Tab works too).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
    var page = document.querySelector("main #search-results-body");
    if (!page || !(document.activeElement && (page.contains(document.activeElement) || document.activeElement === document.body))) { return; }
    var hits = Array.prototype.slice.call(page.querySelectorAll("a.search-hit"));
    if (!hits.length) { return; }
    var index = hits.indexOf(document.activeElement);
    event.preventDefault();
    if (event.key === "ArrowDown") { (hits[index + 1] || hits[0]).focus(); }
    else { (hits[index - 1] || hits[hits.length - 1]).focus(); }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    showToasts(event.target);
    if (event.target.id === "search-dropdown") {
      var open = event.target.textContent.trim().length > 0;
      event.target.classList.toggle("show", open);
      document.getElementById("global-search").setAttribute("aria-expanded", open ? "true" : "false");
    }
  });

  document.addEventListener("click", function (event) {
    var dropdown = document.getElementById("search-dropdown");
    if (dropdown && !event.target.closest(".global-search")) { dropdown.classList.remove("show"); }
  });
})();
