// The kanban board: drag a card to another column to move the deal to that stage.
// The server validates and records the move (sales.views.board_move); on a refusal the card
// goes back where it was and the reason is shown. Dropping on a "lost" column asks why first.
(function () {
  "use strict";

  var board = document.getElementById("board");
  if (!board || typeof Sortable === "undefined") {
    return;
  }
  var csrf = board.querySelector("input[name=csrfmiddlewaretoken]").value;
  var lostDialog = document.getElementById("lost-dialog");
  var lostForm = document.getElementById("lost-dialog-form");
  var pendingLost = null;

  function toast(text, kind) {
    var container = document.getElementById("toasts");
    var element = document.createElement("div");
    element.className = "toast align-items-center border-0 text-bg-" + (kind || "success");
    element.setAttribute("role", kind === "danger" ? "alert" : "status");
    var row = document.createElement("div");
    row.className = "d-flex";
    var body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = text;
    row.appendChild(body);
    element.appendChild(row);
    container.appendChild(element);
    bootstrap.Toast.getOrCreateInstance(element, {autohide: kind !== "danger"}).show();
  }

  function putBack(move) {
    var reference = move.from.children[move.oldIndex] || null;
    move.from.insertBefore(move.item, reference);
  }

  function updateFigures(columns) {
    Object.keys(columns).forEach(function (stageId) {
      ["count", "total", "weighted"].forEach(function (name) {
        var element = board.querySelector('[data-figure="' + name + '"][data-stage="' + stageId + '"]');
        if (element) {
          element.textContent = columns[stageId][name];
        }
      });
    });
  }

  function send(move, extra) {
    var data = new URLSearchParams(board.dataset.query);
    data.set("opportunity", move.item.dataset.id);
    data.set("lock_version", move.item.dataset.version);
    data.set("stage", move.to.dataset.stageId);
    Object.keys(extra || {}).forEach(function (key) { data.set(key, extra[key]); });
    move.item.classList.add("board-card-saving");
    fetch(board.dataset.moveUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-CSRFToken": csrf, "X-Requested-With": "fetch"},
    }).then(function (response) {
      return response.json().then(function (payload) { return {ok: response.ok, payload: payload}; });
    }).then(function (result) {
      move.item.classList.remove("board-card-saving");
      if (!result.ok) {
        putBack(move);
        toast(result.payload.error, "danger");
        if (result.payload.stale) {
          window.setTimeout(function () { window.location.reload(); }, 1500);
        }
        return;
      }
      var holder = document.createElement("ul");
      holder.innerHTML = result.payload.card;
      move.item.replaceWith(holder.firstElementChild);
      updateFigures(result.payload.columns);
      toast(result.payload.message, "success");
    }).catch(function () {
      move.item.classList.remove("board-card-saving");
      putBack(move);
      toast(board.dataset.offline || "The move could not be saved. Check your connection.", "danger");
    });
  }

  board.querySelectorAll(".board-cards").forEach(function (list) {
    Sortable.create(list, {
      group: "board",
      draggable: ".board-card-movable",  // cards the user may only look at stay put
      animation: 120,
      ghostClass: "board-card-ghost",
      onEnd: function (event) {
        if (event.from === event.to) {
          return;
        }
        var move = {item: event.item, from: event.from, to: event.to, oldIndex: event.oldIndex};
        if (event.to.dataset.kind === "lost") {
          pendingLost = move;
          lostForm.reset();
          lostForm.elements.lost_reason.classList.remove("is-invalid");
          bootstrap.Modal.getOrCreateInstance(lostDialog).show();
          return;
        }
        send(move);
      },
    });
  });

  lostForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var reason = lostForm.elements.lost_reason;
    if (!reason.value) {
      reason.classList.add("is-invalid");
      reason.focus();
      return;
    }
    reason.classList.remove("is-invalid");
    var move = pendingLost;
    pendingLost = null;
    bootstrap.Modal.getOrCreateInstance(lostDialog).hide();
    send(move, {lost_reason: reason.value, lost_note: lostForm.elements.lost_note.value});
  });

  lostDialog.addEventListener("hidden.bs.modal", function () {
    if (pendingLost) {  // closed without a reason: the card goes back
      putBack(pendingLost);
      pendingLost = null;
    }
  });
})();
