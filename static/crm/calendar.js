// The calendar page: drag (or Alt + arrow keys) to reschedule, copy the feed address,
// open the hour grid at the working day. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  var root = document.getElementById("calendar");
  if (!root) {
    return;
  }
  var dragged = null;

  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) {
        return headers["X-CSRFToken"];
      }
    } catch (error) {
      // fall through to the cookie
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function toast(text, tone) {
    var container = document.getElementById("toasts");
    var element = document.createElement("div");
    element.className = "toast align-items-center border-0 text-bg-" + tone;
    element.setAttribute("role", tone === "danger" ? "alert" : "status");
    var row = document.createElement("div");
    row.className = "d-flex";
    var body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white me-2 m-auto";
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", root.dataset.msgClose);
    row.appendChild(body);
    row.appendChild(close);
    element.appendChild(row);
    container.appendChild(element);
    element.addEventListener("hidden.bs.toast", function () { element.remove(); });
    bootstrap.Toast.getOrCreateInstance(element, { autohide: tone !== "danger" }).show();
  }

  function pad(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function shiftDate(isoDate, days) {
    var parts = isoDate.split("-").map(Number);
    var shifted = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2] + days));
    return shifted.getUTCFullYear() + "-" + pad(shifted.getUTCMonth() + 1) + "-" + pad(shifted.getUTCDate());
  }

  function listOf(zone) {
    return zone.querySelector(".cal-items") || zone;
  }

  function zoneOf(item) {
    return item.closest(".cal-drop");
  }

  function refreshEmpty(zone) {
    if (zone) {
      zone.classList.toggle("cal-no-items", !zone.querySelector(".cal-item"));
    }
  }

  // Keep a slot's items in time order after a move.
  function insertSorted(list, item) {
    var time = item.dataset.time;
    var before = Array.prototype.find.call(list.querySelectorAll(".cal-item"), function (other) {
      return other !== item && other.dataset.time > time;
    });
    list.insertBefore(item, before || null);
  }

  function newStart(item, zone) {
    var time = item.dataset.time;
    if (zone.dataset.hour !== undefined) {
      time = pad(Number(zone.dataset.hour)) + ":" + time.split(":")[1];
    }
    return zone.dataset.date + "T" + time;
  }

  function failureMessage(response) {
    if (response.redirected) {
      return Promise.resolve(root.dataset.msgFailed);
    }
    if (response.status === 403) {
      return Promise.resolve(root.dataset.msgForbidden);
    }
    if (response.status === 404) {
      return Promise.resolve(root.dataset.msgNotFound);
    }
    return response.json().then(
      function (data) { return (data && data.error) || root.dataset.msgFailed; },
      function () { return root.dataset.msgFailed; }
    );
  }

  function move(item, zone) {
    var origin = zoneOf(item);
    var startsAt = newStart(item, zone);
    if (!origin || item.classList.contains("cal-saving") || startsAt === newStart(item, origin)) {
      return;
    }
    var home = { list: item.parentNode, next: item.nextSibling };
    insertSorted(listOf(zone), item);
    refreshEmpty(origin);
    refreshEmpty(zone);
    item.classList.add("cal-saving");
    item.setAttribute("aria-busy", "true");

    var body = new FormData();
    body.append("activity", item.dataset.activityId);
    body.append("starts_at", startsAt);
    fetch(root.dataset.rescheduleUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    })
      .then(function (response) {
        if (response.ok && !response.redirected) {
          return response.json().catch(function () { throw new Error(root.dataset.msgFailed); });
        }
        // A redirect means the session ended (sign-in page); the generic message fits.
        return failureMessage(response).then(function (message) { throw new Error(message); });
      })
      .then(function (data) {
        item.dataset.time = data.time;
        var label = item.querySelector(".cal-time");
        if (label) {
          label.textContent = data.time;
          label.setAttribute("datetime", data.starts_at);
        }
        var end = item.querySelector(".cal-end");
        if (end && data.ends_at) {
          // The server keeps the meeting's length; show its new end in the same local clock.
          var minutes = (Date.parse(data.ends_at) - Date.parse(data.starts_at)) / 60000;
          var startParts = data.time.split(":").map(Number);
          var total = (startParts[0] * 60 + startParts[1] + minutes) % (24 * 60);
          end.textContent = "–" + pad(Math.floor(total / 60)) + ":" + pad(total % 60);
        }
        insertSorted(listOf(zone), item);
        toast(data.message, "success");
      })
      .catch(function (error) {
        home.list.insertBefore(item, home.next && home.next.parentNode === home.list ? home.next : null);
        refreshEmpty(origin);
        refreshEmpty(zone);
        toast(error.message || root.dataset.msgFailed, "danger");
      })
      .finally(function () {
        item.classList.remove("cal-saving");
        item.removeAttribute("aria-busy");
        item.focus({ preventScroll: true });
      });
  }

  function clearHighlight() {
    root.querySelectorAll(".cal-drop-over").forEach(function (zone) { zone.classList.remove("cal-drop-over"); });
  }

  root.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest(".cal-item[data-editable]");
    if (!item) {
      return;
    }
    dragged = item;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.activityId);
    item.classList.add("cal-dragging");
  });

  root.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("cal-dragging");
    }
    dragged = null;
    clearHighlight();
  });

  root.addEventListener("dragover", function (event) {
    var zone = dragged && event.target.closest(".cal-drop");
    if (!zone) {
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!zone.classList.contains("cal-drop-over")) {
      clearHighlight();
      zone.classList.add("cal-drop-over");
    }
  });

  root.addEventListener("dragleave", function (event) {
    var zone = event.target.closest(".cal-drop");
    if (zone && !zone.contains(event.relatedTarget)) {
      zone.classList.remove("cal-drop-over");
    }
  });

  root.addEventListener("drop", function (event) {
    var zone = dragged && event.target.closest(".cal-drop");
    if (!zone) {
      return;
    }
    event.preventDefault();
    var item = dragged;
    clearHighlight();
    item.classList.remove("cal-dragging");
    dragged = null;
    move(item, zone);
  });

  // Keyboard: Alt + Left/Right moves a day; Alt + Up/Down an hour (day and week) or a week (month).
  root.addEventListener("keydown", function (event) {
    var item = event.target.closest && event.target.closest(".cal-item[data-editable]");
    var steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[event.key];
    if (!item || !steps || !event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var zone = zoneOf(item);
    if (!zone) {
      return;
    }
    event.preventDefault();
    var target;
    if (zone.dataset.hour !== undefined) {
      var hour = Number(zone.dataset.hour) + steps[1];
      target = root.querySelector('.cal-drop[data-date="' + shiftDate(zone.dataset.date, steps[0]) +
        '"][data-hour="' + hour + '"]');
    } else {
      target = root.querySelector('.cal-drop[data-date="' + shiftDate(zone.dataset.date, steps[0] + 7 * steps[1]) +
        '"]');
    }
    if (target) {
      move(item, target);
      item.focus();
    }
  });

  // Open the hour grid at the working day (or the earliest item) instead of midnight.
  var scroller = root.querySelector(".cal-scroll");
  if (scroller && scroller.scrollHeight > scroller.clientHeight) {
    var slot = scroller.querySelector('.cal-slot[data-hour="' + scroller.dataset.scrollHour + '"]');
    var head = scroller.querySelector(".cal-day-head");
    if (slot) {
      scroller.scrollTop = slot.offsetTop - (head ? head.offsetHeight : 0);
    }
  }
})();
