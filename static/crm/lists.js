// The list component (templates/components/list/): htmx swaps #list-body on filter, sort, page
// and chip clicks. An open "more filters" drawer is closed at once before its markup is replaced,
// or Bootstrap would leave its backdrop and the page's scroll lock behind.
(function () {
  "use strict";

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "list-body") { return; }
    document.querySelectorAll("#list-body .offcanvas").forEach(function (drawer) {
      var instance = bootstrap.Offcanvas.getInstance(drawer);
      if (instance) { instance.dispose(); }
    });
    document.querySelectorAll(".offcanvas-backdrop").forEach(function (backdrop) { backdrop.remove(); });
    document.body.style.removeProperty("overflow");
    document.body.style.removeProperty("padding-right");
  });

  // The main filters apply as soon as they change (the search box on Enter).
  document.addEventListener("change", function (event) {
    var control = event.target;
    if (control.closest && control.closest(".list-filter-bar") && control.tagName === "SELECT") {
      control.form.requestSubmit();
    }
  });
})();
