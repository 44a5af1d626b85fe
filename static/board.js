// The order board (architecture.md §10): orders by status from /ws/board/, kept live.
//
// The server sends {"type": "snapshot", "orders": [BoardOrder]} on connect, on {"type": "resync"} and after
// its NATS subscription was away, and {"type": "update", "event", "order": BoardOrder} per order event.
// An update older than what the board shows (updatedAt) is ignored; an update sent before the search row
// existed has an empty name and zero counts, and then keeps the values already known. The socket reconnects
// with growing, jittered delays and resyncs; 4401 (signed out) and 4403 (no depot role) end it.
(function () {
  "use strict";

  var COLUMN_OF = {
    "pending": "pending", "approved": "approved", "in-progress": "in-progress", "ready": "ready",
    "completed": "finished", "rejected": "finished", "cancelled": "finished"
  };
  var FIRST_RETRY_MS = 500, MAX_RETRY_MS = 30000, RESYNC_EVERY_MS = 120000, FRESH_MS = 2500, ROW_LAG_MS = 30000;

  var body = document.body;
  var recentMs = Number(body.dataset.recentMinutes || 60) * 60000;
  var connection = document.getElementById("connection");
  // orderId -> {order, at (ms of updatedAt), seen (ms an update brought it, 0 from a snapshot), fresh (ms until
  // highlighted)}
  var orders = new Map();
  var socket = null, failures = 0, retryTimer = null, renderQueued = false, stopped = false, opened = 0;

  function time(text) {
    var ms = Date.parse(text);
    return Number.isNaN(ms) ? 0 : ms;
  }

  function showConnection(state, text) {
    body.dataset.connection = state;
    connection.textContent = text;
  }

  // --- state -------------------------------------------------------------------------------------------

  function applyUpdate(order) {
    var known = orders.get(order.orderId), at = time(order.updatedAt);
    if (known && at < known.at) return;
    var merged = Object.assign({}, order);
    if (known) {
      if (!merged.customerName) merged.customerName = known.order.customerName;
      if (!merged.itemCount) merged.itemCount = known.order.itemCount;
      if (!Number(merged.total)) merged.total = known.order.total;
    }
    var now = Date.now();
    orders.set(order.orderId, {order: merged, at: at, seen: now, fresh: now + FRESH_MS});
  }

  // The snapshot replaces the board, except that an order known in a newer state keeps it, and an open
  // order that arrived by update in the last ROW_LAG_MS stays even if the read model does not have it yet.
  function applySnapshot(list) {
    var previous = orders, now = Date.now();
    orders = new Map();
    list.forEach(function (order) {
      var known = previous.get(order.orderId), at = time(order.updatedAt);
      orders.set(order.orderId, known && known.at > at ? known
        : {order: order, at: at, seen: 0, fresh: known ? known.fresh : 0});
    });
    previous.forEach(function (entry, id) {
      if (!orders.has(id) && COLUMN_OF[entry.order.status] !== "finished" && now - entry.seen < ROW_LAG_MS) {
        orders.set(id, entry);
      }
    });
  }

  function pruneFinished(now) {
    var pruned = false;
    orders.forEach(function (entry, id) {
      if (COLUMN_OF[entry.order.status] === "finished" && now - entry.at > recentMs) {
        orders.delete(id);
        pruned = true;
      }
    });
    return pruned;
  }

  // --- rendering -----------------------------------------------------------------------------------------

  function age(ms) {
    var seconds = Math.max(0, Math.floor(ms / 1000));
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    var rest = minutes % 60;
    return Math.floor(minutes / 60) + " h " + (rest < 10 ? "0" : "") + rest + " min";
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function card(entry, now) {
    var order = entry.order;
    var item = element("li", "card status-" + order.status + (entry.fresh > now ? " fresh" : ""));
    item.dataset.orderId = order.orderId;
    item.dataset.status = order.status;
    var top = element("div", "card-top");
    var id = element("span", "order-id", order.orderId.slice(0, 8));
    id.title = order.orderId;
    var ageNode = element("time", "age", age(now - entry.at));
    ageNode.dateTime = order.updatedAt;
    ageNode.dataset.at = String(entry.at);
    ageNode.title = "in this status since " + new Date(entry.at).toLocaleString();
    top.append(id, ageNode);
    item.append(top, element("div", "customer", order.customerName || "—"));
    var details = element("div", "details");
    var count = Number(order.itemCount) || 0;
    details.append(element("span", "total", Number(order.total || 0).toFixed(2)),
                   element("span", "items", count === 1 ? "1 item" : count + " items"));
    item.append(details);
    if (COLUMN_OF[order.status] === "finished") item.append(element("span", "badge", order.status));
    return item;
  }

  function render() {
    renderQueued = false;
    var now = Date.now();
    pruneFinished(now);
    var byColumn = {};
    Array.from(orders.values())
      .sort(function (a, b) { return b.at - a.at || (a.order.orderId < b.order.orderId ? 1 : -1); })
      .forEach(function (entry) {
        var column = COLUMN_OF[entry.order.status];
        if (column) (byColumn[column] = byColumn[column] || []).push(card(entry, now));
      });
    document.querySelectorAll(".column").forEach(function (section) {
      var cards = byColumn[section.dataset.column] || [];
      var list = section.querySelector(".cards");
      section.querySelector(".count").textContent = String(cards.length);
      list.replaceChildren.apply(list, cards);
      section.classList.toggle("empty", cards.length === 0);
    });
  }

  function scheduleRender() {
    if (!renderQueued) {
      renderQueued = true;
      window.requestAnimationFrame(render);
    }
  }

  function tick() {
    var now = Date.now();
    if (pruneFinished(now)) {
      scheduleRender();
      return;
    }
    document.querySelectorAll(".card .age").forEach(function (node) {
      node.textContent = age(now - Number(node.dataset.at));
    });
  }

  // --- the socket ----------------------------------------------------------------------------------------

  function onMessage(event) {
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (message.type === "snapshot" && Array.isArray(message.orders)) {
      failures = 0;
      applySnapshot(message.orders);
      showConnection("live", "Live");
    } else if (message.type === "update" && message.order && message.order.orderId) {
      applyUpdate(message.order);
    } else {
      return;
    }
    scheduleRender();
  }

  function onClose(event) {
    socket = null;
    if (event.code === 4401) {
      stopped = true;
      showConnection("signed-out", "Signed out: sign in again to see the board.");
      window.location.assign("/admin/login/?next=" + encodeURIComponent(window.location.pathname));
      return;
    }
    if (event.code === 4403) {
      stopped = true;
      showConnection("forbidden", "This account has no depot role.");
      return;
    }
    var delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * Math.pow(2, failures));
    delay = Math.round(delay * (0.5 + Math.random() / 2));
    failures += 1;
    showConnection("reconnecting", "Connection lost: retrying in " + Math.max(1, Math.round(delay / 1000)) + " s…");
    retryTimer = window.setTimeout(connect, delay);
  }

  function connect() {
    if (stopped || socket) return;
    window.clearTimeout(retryTimer);
    if (body.dataset.connection !== "reconnecting") showConnection("connecting", "Connecting…");
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/ws/board/");
    socket.addEventListener("open", function () { body.dataset.opened = String(++opened); });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", onClose);
  }

  function resync() {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({type: "resync"}));
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      if (socket) resync(); else connect();
    }
  });
  window.addEventListener("online", connect);
  window.setInterval(tick, 1000);
  window.setInterval(resync, RESYNC_EVERY_MS);
  connect();
})();
