/* telecare web chat. Vanilla JS, no build step.
 *
 * Protocol (see bot/web/routes.py):
 *   server -> client  {"type": "replies", "replies": [Reply], "locale"} | {"type": "notice", "replies"}
 *                     | {"type": "history", "messages": [{side, text, labels, urgent, calls, document, private, typed}], "locale"}
 *                     | {"type": "dev", "text"} | {"type": "error", "text"}
 *   "history" comes first when a chat that showed something opens (a reload): drawn once, its
 *   buttons as plain labels. `locale` switches the page's own words (strings.js).
 *   client -> server  {"type": "text", "text", "id"} | {"type": "choice", "token", "label", "id"}
 *   files             POST /web/upload (multipart: file, id); the answer arrives on the socket
 * Server and user text is only ever inserted with textContent / text nodes (never innerHTML);
 * http(s) URLs in it become links made with createElement, nothing else does.
 */
(function () {
  "use strict";

  // The longest message the chat answers (conversations/engine.py MAX_TEXT_CHARS): the counter
  // shows it. A longer paste is still sent, never cut: the server reads it (its first 20,000
  // characters) for an emergency first, then asks for a shorter message. Only a frame the socket cannot carry
  // (bot/body_limits.py MAX_FRAME_BYTES) is refused here, and its text stays in the box.
  var MAX_LENGTH = 4000;
  var MAX_FRAME_BYTES = 32000;
  var COUNTER_FROM = 3600;
  var TYPING_TIMEOUT_MS = 20000;
  var BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
  var NEAR_BOTTOM_PX = 160;
  var CODE_PATTERN = /\b\d{6}\b/;
  var URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  var MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
  var UPLOAD_TYPES = ["application/pdf", "image/jpeg", "image/png"];
  var UPLOAD_EXTENSIONS = /\.(pdf|jpe?g|png)$/i;
  // Emergency numbers that become tap-to-call links (a fixed list: nothing else in a message is).
  var EMERGENCY_NUMBERS = ["112", "108", "14416"];
  var EMERGENCY_PATTERN = /(^|[^\d])(112|108|14416)(?!\d)/g;
  var STRINGS = window.telecareStrings || {};
  var locale = "en";
  var currentRequest = null;

  var $ = function (id) { return document.getElementById(id); };
  var ui = {
    app: $("app"),
    scroller: $("scroller"),
    messages: $("messages"),
    typing: $("typing"),
    form: $("composer"),
    input: $("input"),
    send: $("send"),
    attach: $("attach"),
    fileInput: $("file-input"),
    hint: $("hint"),
    counter: $("counter"),
    banner: $("banner"),
    bannerText: $("banner-text"),
    conn: $("conn"),
    connLabel: $("conn-label"),
    devToggle: $("dev-toggle"),
    devBadge: $("dev-badge"),
    devPanel: $("dev-panel"),
    devLog: $("dev-log"),
    devEmpty: $("dev-empty"),
    devStatus: $("dev-status"),
    personas: $("personas"),
    signout: $("signout"),
    sos: $("sos"),
    sosNumbers: $("sos-numbers"),
    sosClose: $("sos-close"),
    dayDivider: $("day-divider"),
    footerText: $("footer-text"),
  };

  var socket = null;
  var connected = false;
  var everConnected = false;
  var leaving = false;
  var attempt = 0;
  var reconnectTimer = null;
  var connectingTimer = null;
  var typingTimer = null;
  var freshConnection = false; // the next "replies" is the server's current prompt after (re)connecting
  var lastBatch = null; // {signature, nodes, buttons}
  var sentSinceBatch = false;
  var unreadDev = 0;
  var failedHandshakes = 0;
  var refreshingSession = false;
  var uploading = false;
  var finePointer = window.matchMedia && window.matchMedia("(pointer: fine)").matches;
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  // ---------- the page's own words, in the chat's language ----------

  /** A string of the page in the chat's language (English when a key is missing), `{name}` filled. */
  function t(key, params) {
    var table = STRINGS[locale] || STRINGS.en || {};
    var text = table[key] !== undefined ? table[key] : (STRINGS.en || {})[key];
    text = text === undefined ? key : String(text);
    Object.keys(params || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(params[name])); });
    return text;
  }

  function eachMarked(attribute, apply) {
    Array.prototype.forEach.call(document.querySelectorAll("[" + attribute + "]"), function (node) {
      apply(node, t(node.getAttribute(attribute)));
    });
  }

  /** Switch the page's words to `next` (a locale the server named); unknown ones are ignored. */
  function applyLocale(next) {
    if (typeof next !== "string" || !STRINGS[next] || next === locale) return;
    locale = next;
    document.documentElement.lang = locale;
    eachMarked("data-i18n", function (node, text) { node.textContent = text; });
    eachMarked("data-i18n-aria-label", function (node, text) { node.setAttribute("aria-label", text); });
    eachMarked("data-i18n-title", function (node, text) { node.setAttribute("title", text); });
    document.title = t("page_title");
    ui.footerText.replaceChildren(emergencyText(null, t("footer")));
    if (ui.dayDivider.dataset.earlier) ui.dayDivider.textContent = t("day_earlier");
    if (!ui.sos.hidden) showSos(ui.sos.dataset.numbers.split(","));
    connectionWords();
    setRequestHint(currentRequest);
  }

  // ---------- small helpers ----------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function newId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      try { return c.randomUUID(); } catch (e) { /* not a secure context: fall through */ }
    }
    if (c && typeof c.getRandomValues === "function") {
      var bytes = new Uint8Array(16);
      c.getRandomValues(bytes);
      return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  }

  function asText(value) {
    return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
  }

  function clock() {
    try {
      return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    } catch (e) {
      return new Date().toTimeString().slice(0, 8);
    }
  }

  function isNearBottom() {
    var s = ui.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToEnd(force) {
    if (!force && !isNearBottom()) return;
    var s = ui.scroller;
    window.requestAnimationFrame(function () {
      if (typeof s.scrollTo === "function") {
        s.scrollTo({ top: s.scrollHeight, behavior: reduceMotion ? "auto" : "smooth" });
      } else {
        s.scrollTop = s.scrollHeight;
      }
    });
  }

  function avatar() {
    var box = el("div", "avatar");
    box.setAttribute("aria-hidden", "true");
    var img = el("img");
    img.src = "/static/logo.svg";
    img.alt = "";
    img.width = 32;
    img.height = 32;
    box.appendChild(img);
    return box;
  }

  var SVG_NS = "http://www.w3.org/2000/svg";

  function documentIcon() {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("class", "document-icon");
    svg.setAttribute("viewBox", "0 0 32 40");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var shapes = [
      ["path", { d: "M4 1h16l10 10v26a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V3a2 2 0 0 1 2-2z", fill: "#f0fdfa", stroke: "#0d9488", "stroke-width": "2" }],
      ["path", { d: "M20 1v8a2 2 0 0 0 2 2h8", fill: "none", stroke: "#0d9488", "stroke-width": "2" }],
      ["path", { d: "M16 17v11m-5-5 5 5 5-5", fill: "none", stroke: "#0f766e", "stroke-width": "2.4", "stroke-linecap": "round", "stroke-linejoin": "round" }],
      ["path", { d: "M10 33h12", stroke: "#0f766e", "stroke-width": "2.4", "stroke-linecap": "round" }],
    ];
    shapes.forEach(function (shape) {
      var node = document.createElementNS(SVG_NS, shape[0]);
      Object.keys(shape[1]).forEach(function (name) { node.setAttribute(name, shape[1][name]); });
      svg.appendChild(node);
    });
    return svg;
  }

  /** Only http(s) or same-origin relative links; anything else (javascript:, data:) is refused. */
  function safeUrl(raw) {
    try {
      var url = new URL(asText(raw), window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  /** Message text with its http(s) URLs as links: text nodes and <a> elements only. A URL's
   *  trailing punctuation (end of a sentence, a closing bracket) stays text. */
  function linkedText(className, value) {
    var text = asText(value);
    var span = el("span", className);
    var last = 0;
    var match;
    URL_PATTERN.lastIndex = 0;
    while ((match = URL_PATTERN.exec(text)) !== null) {
      var raw = match[0].replace(/[.,;:!?)\]}'"]+$/, "");
      var href = raw ? safeUrl(raw) : null;
      if (!href || !/^https?:\/\//i.test(raw)) continue;
      span.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = el("a", null, raw);
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer nofollow";
      span.appendChild(link);
      last = match.index + raw.length;
      URL_PATTERN.lastIndex = last;
    }
    span.appendChild(document.createTextNode(text.slice(last)));
    return span;
  }

  /** Text with the emergency numbers (and only those) as tap-to-call links; the rest stays text. */
  function emergencyText(className, value) {
    var text = asText(value);
    var span = el("span", className);
    var last = 0;
    var match;
    EMERGENCY_PATTERN.lastIndex = 0;
    while ((match = EMERGENCY_PATTERN.exec(text)) !== null) {
      var start = match.index + match[1].length;
      span.appendChild(document.createTextNode(text.slice(last, start)));
      span.appendChild(telLink(match[2], match[2]));
      last = start + match[2].length;
    }
    span.appendChild(document.createTextNode(text.slice(last)));
    return span;
  }

  function telLink(number, label) {
    var link = el("a", "tel", label);
    link.href = "tel:" + number;
    return link;
  }

  function numbersIn(text) {
    var found = [];
    var match;
    EMERGENCY_PATTERN.lastIndex = 0;
    while ((match = EMERGENCY_PATTERN.exec(asText(text))) !== null) {
      if (found.indexOf(match[2]) < 0) found.push(match[2]);
    }
    return EMERGENCY_NUMBERS.filter(function (number) { return found.indexOf(number) >= 0; });
  }

  /** The emergency guidance's numbers, kept at the top of the page until dismissed: on a phone
   *  the card itself soon scrolls away. A later card adds its numbers to those shown (a crisis
   *  line after an ambulance keeps the ambulance). */
  function showSos(numbers) {
    if (!numbers.length) return;
    var shown = ui.sos.hidden ? [] : (ui.sos.dataset.numbers || "").split(",");
    numbers = EMERGENCY_NUMBERS.filter(function (number) {
      return numbers.indexOf(number) >= 0 || shown.indexOf(number) >= 0;
    });
    ui.sos.dataset.numbers = numbers.join(",");
    rememberSos(ui.sos.dataset.numbers);
    ui.sosNumbers.replaceChildren();
    numbers.forEach(function (number) {
      var link = telLink(number, "");
      link.className = "sos-call";
      link.appendChild(el("span", "sos-name", t("sos_" + number)));
      link.appendChild(el("strong", "sos-number", number));
      ui.sosNumbers.appendChild(link);
    });
    ui.sos.hidden = false;
  }

  /** The bar survives a reload of this tab until dismissed: the tab remembers its numbers (public
   *  numbers, nothing of the patient's). Storage may be refused (a private window): then it
   *  simply does not survive. */
  var SOS_KEY = "telecare.sos";

  function rememberSos(numbers) {
    try {
      if (numbers) window.sessionStorage.setItem(SOS_KEY, numbers);
      else window.sessionStorage.removeItem(SOS_KEY);
    } catch (error) { /* not remembered */ }
  }

  function restoreSos() {
    var stored = null;
    try { stored = window.sessionStorage.getItem(SOS_KEY); } catch (error) { return; }
    if (!stored) return;
    // Only the numbers the page knows: the stored text is not trusted to be ours.
    showSos(EMERGENCY_NUMBERS.filter(function (number) { return stored.split(",").indexOf(number) >= 0; }));
  }

  ui.sosClose.addEventListener("click", function () {
    ui.sos.hidden = true;
    rememberSos("");
    if (!finePointer || document.activeElement === ui.sosClose) ui.input.focus({ preventScroll: true });
  });

  /** A reply's link (a payment checkout) as a button-styled anchor that opens it in a new tab;
   *  null when there is none or its URL is not http(s). */
  function renderLink(link) {
    if (!link || typeof link !== "object") return null;
    var href = safeUrl(link.url);
    if (!href) return null;
    var anchor = el("a", "link-button", asText(link.label) || href);
    anchor.href = href;
    anchor.target = "_blank";
    anchor.rel = "noopener noreferrer";
    return anchor;
  }

  // ---------- rendering ----------

  function renderBot(reply) {
    var urgent = reply.urgent === true;
    var row = el("div", "row msg bot" + (urgent ? " urgent" : ""));
    row.appendChild(avatar());
    var body = el("div", "body");
    var bubble = el("div", "bubble");
    bubble.appendChild(el("span", "visually-hidden", t(urgent ? "bot_says_urgent" : "bot_says")));
    if (urgent) {
      var tag = el("span", "urgent-tag");
      tag.setAttribute("aria-hidden", "true");
      tag.textContent = t("important");
      bubble.appendChild(tag);
    }
    var calls = urgent || reply.calls === true;
    bubble.appendChild(calls ? emergencyText("text", reply.text) : linkedText("text", reply.text));
    body.appendChild(bubble);

    var doc = reply.document;
    if (doc && typeof doc === "object") {
      var href = safeUrl(doc.url);
      var filename = asText(doc.filename) || t("document");
      var card = el(href ? "a" : "div", "document");
      if (href) {
        card.href = href;
        card.setAttribute("download", filename);
        card.rel = "noopener";
        card.target = "_blank";
      }
      card.appendChild(documentIcon());
      var info = el("span", "document-info");
      info.appendChild(el("span", "document-name", filename));
      var caption = asText(doc.caption);
      if (caption) info.appendChild(el("span", "document-caption", caption));
      info.appendChild(el("span", "document-action", t(href ? "download" : "not_available")));
      card.appendChild(info);
      body.appendChild(card);
    }

    var linkButton = renderLink(reply.link);
    if (linkButton) body.appendChild(linkButton);

    var buttons = [];
    var choices = Array.isArray(reply.choices) ? reply.choices : [];
    if (choices.length) {
      var group = el("div", "choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", t("options"));
      choices.forEach(function (choice) {
        if (!choice || typeof choice !== "object") return;
        var label = asText(choice.label);
        var token = asText(choice.token);
        var button = el("button", "choice", label);
        button.type = "button";
        button.addEventListener("click", function () { pickChoice(button, token, label); });
        group.appendChild(button);
        buttons.push(button);
      });
      body.appendChild(group);
    }
    row.appendChild(body);
    return { row: row, buttons: buttons };
  }

  function renderUser(text) {
    var row = el("div", "row msg user");
    var bubble = el("div", "bubble");
    bubble.appendChild(el("span", "visually-hidden", t("you_say")));
    bubble.appendChild(linkedText("text", text));
    row.appendChild(bubble);
    ui.messages.appendChild(row);
    scrollToEnd(true);
    return row;
  }

  function addNotice(text, kind) {
    var notice = el("div", "notice" + (kind ? " notice-" + kind : ""));
    notice.appendChild(el("span", null, asText(text)));
    ui.messages.appendChild(notice);
    scrollToEnd(false);
  }

  function batchSignature(replies) {
    return JSON.stringify(replies.map(function (r) {
      var labels = Array.isArray(r.choices) ? r.choices.map(function (c) { return c && c.label; }) : [];
      return [r.text, labels, r.request, r.urgent];
    }));
  }

  /** The current question's buttons (and older questions'); a notification's own buttons stay
   *  usable until pressed, whatever the conversation does meanwhile. */
  function disableChoices() {
    var live = ui.messages.querySelectorAll(".choice:not([disabled])");
    Array.prototype.forEach.call(live, function (button) {
      if (!button.closest(".from-notification")) button.disabled = true;
    });
  }

  /** Notification buttons follow the connection: off while offline, back on (unless used) after. */
  function setNoticeChoices(enabled) {
    var buttons = ui.messages.querySelectorAll(".from-notification .choice");
    Array.prototype.forEach.call(buttons, function (button) {
      if (enabled) button.classList.remove("pending"); // never answered: usable again
      button.disabled = !enabled || button.classList.contains("used") || button.classList.contains("pending");
    });
  }

  /** The server answered a press: a notification's pending buttons are spent for good. */
  function spendPendingNoticeChoices() {
    var pending = ui.messages.querySelectorAll(".from-notification .choice.pending");
    Array.prototype.forEach.call(pending, function (button) {
      button.classList.remove("pending");
      button.classList.add("used");
    });
  }

  function onReplies(replies) {
    hideTyping();
    spendPendingNoticeChoices();
    replies = replies.filter(function (r) { return r && typeof r === "object"; });
    if (!replies.length) {
      restoreChoices();
      return;
    }
    var signature = batchSignature(replies);
    var replacing = freshConnection && lastBatch && !sentSinceBatch && lastBatch.signature === signature;
    freshConnection = false;
    var anchor = null;
    if (replacing) {
      // The same prompt again after a reconnect: swap it in place instead of repeating it.
      anchor = lastBatch.nodes[0];
      lastBatch.nodes.slice(1).forEach(function (node) { node.remove(); });
    }
    disableChoices();
    var nodes = [];
    var buttons = [];
    var request = null;
    replies.forEach(function (reply) {
      var rendered = renderBot(reply);
      if (replacing) rendered.row.classList.add("settled"); // no entrance animation for a swap
      if (anchor) ui.messages.insertBefore(rendered.row, anchor);
      else ui.messages.appendChild(rendered.row);
      nodes.push(rendered.row);
      buttons = buttons.concat(rendered.buttons);
      if (reply.request) request = asText(reply.request);
    });
    if (anchor) anchor.remove();
    var urgentReply = replies.filter(function (r) { return r.urgent === true; }).pop();
    if (urgentReply && !replacing) showSos(numbersIn(urgentReply.text));
    var focusLost = sentSinceBatch && focusWasLost(); // never move focus on page load
    lastBatch = { signature: signature, nodes: nodes, buttons: buttons };
    sentSinceBatch = false;
    setRequestHint(request);
    updateChoiceAvailability();
    scrollToEnd(!replacing);
    if (focusLost && !replacing) restoreFocus(nodes, buttons);
  }

  /** What the chat showed before this page (a reload), drawn once, before the live question: no
   *  entrance animation, and an old message's buttons as plain words that cannot be pressed. A
   *  page that already shows the conversation (a reconnect) keeps what it has. */
  function onHistory(messages) {
    if (ui.messages.children.length) return;
    messages.forEach(function (message) {
      if (!message || typeof message !== "object") return;
      var row = message.side === "user" ? pastUser(message) : pastBot(message);
      row.classList.add("settled", "from-history");
      ui.messages.appendChild(row);
    });
    if (ui.messages.children.length) {
      ui.dayDivider.dataset.earlier = "1";
      ui.dayDivider.textContent = t("day_earlier");
    }
    ui.scroller.scrollTop = ui.scroller.scrollHeight; // at once: the page opens where the chat is
  }

  function pastUser(message) {
    var row = renderUser(message.text);
    row.remove();
    return row;
  }

  function pastBot(message) {
    // A private message keeps no words of its own; any message keeps how to type its live buttons.
    var text = message.private === true ? t("history_private") : asText(message.text);
    if (message.typed) text += "\n\n" + asText(message.typed);
    if (message.document) text += (text ? "\n" : "") + "📄 " + asText(message.document);
    var row = renderBot({ text: text, urgent: message.urgent === true, calls: message.calls === true }).row;
    if (message.side === "notice") {
      var bubble = row.querySelector(".bubble");
      bubble.insertBefore(el("span", "notification-label", t("notification")), bubble.firstChild);
    }
    var labels = Array.isArray(message.labels) ? message.labels : [];
    if (labels.length) {
      var list = el("ul", "past-choices");
      list.setAttribute("aria-label", t("earlier_options"));
      labels.forEach(function (label) { list.appendChild(el("li", "past-choice", asText(label))); });
      row.querySelector(".body").appendChild(list);
    }
    return row;
  }

  /** A message the platform started (a reminder, a status change): shown as it arrives, with its
   *  own buttons, leaving the current question's buttons and the typing indicator alone. */
  function onNotices(replies) {
    replies.forEach(function (reply) {
      if (!reply || typeof reply !== "object") return;
      var rendered = renderBot(reply);
      rendered.row.classList.add("from-notification");
      var bubble = rendered.row.querySelector(".bubble");
      if (bubble) bubble.insertBefore(el("span", "notification-label", t("notification")), bubble.firstChild);
      rendered.buttons.forEach(function (button) { button.disabled = !connected; });
      ui.messages.appendChild(rendered.row);
    });
    scrollToEnd(true);
  }

  /** True when the focused element was a button that just got disabled (or nothing is focused). */
  function focusWasLost() {
    var active = document.activeElement;
    return !active || active === document.body || (active.disabled === true && ui.messages.contains(active));
  }

  /** Keyboard users land on the new message (Tab then reaches its options) or in the message box,
   * instead of the top of the page. The options themselves are never pre-focused (e.g. "I agree"). */
  function restoreFocus(nodes, buttons) {
    try {
      if (buttons.length && nodes.length) {
        var target = nodes[0];
        target.setAttribute("tabindex", "-1");
        target.focus({ preventScroll: true });
      } else if (finePointer) {
        ui.input.focus({ preventScroll: true });
      }
    } catch (e) { /* old browsers: no focus options */ }
  }

  /** After an error (or an empty answer) the last prompt's buttons become usable again. */
  function restoreChoices() {
    if (!lastBatch) return;
    lastBatch.buttons.forEach(function (button) {
      button.classList.remove("selected");
      button.disabled = !connected;
    });
  }

  function updateChoiceAvailability() {
    if (!lastBatch) return;
    var anySelected = lastBatch.buttons.some(function (b) { return b.classList.contains("selected"); });
    if (anySelected) return;
    lastBatch.buttons.forEach(function (button) { button.disabled = !connected; });
  }

  function setRequestHint(request) {
    currentRequest = request;
    ui.attach.classList.toggle("attach-wanted", request === "file");
    var hint = ui.hint;
    hint.className = "hint";
    ui.input.removeAttribute("inputmode");
    ui.input.setAttribute("autocomplete", "off");
    if (request === "contact") {
      hint.textContent = t("hint_contact");
      hint.classList.add("hint-info");
      ui.input.setAttribute("autocomplete", "email");
    } else if (request === "file") {
      hint.textContent = t("hint_file");
      hint.classList.add("hint-info");
    } else if (request === "location") {
      hint.textContent = t("hint_location");
      hint.classList.add("hint-warn");
    } else {
      hint.textContent = "";
    }
  }

  // ---------- typing indicator ----------

  function showTyping() {
    ui.typing.hidden = false;
    scrollToEnd(true);
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(function () {
      hideTyping();
      restoreChoices();
    }, TYPING_TIMEOUT_MS);
  }

  function hideTyping() {
    window.clearTimeout(typingTimer);
    ui.typing.hidden = true;
  }

  // ---------- sending ----------

  function transmit(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    try {
      socket.send(JSON.stringify(frame));
      return true;
    } catch (e) {
      return false;
    }
  }

  function pickChoice(button, token, label) {
    if (button.disabled || !connected) return;
    if (!transmit({ type: "choice", token: token, label: label, id: newId() })) {
      addNotice(t("not_connected_try_again"), "error");
      return;
    }
    disableChoices();
    var notice = button.closest(".from-notification");
    if (notice) {
      // One decision per notification: its buttons wait for the answer, then are spent (the
      // server agrees). Lost on the way (a dropped connection), they come back on reconnect.
      Array.prototype.forEach.call(notice.querySelectorAll(".choice"), function (other) {
        other.classList.add("pending");
        other.disabled = true;
      });
    }
    button.classList.add("selected");
    sentSinceBatch = true;
    renderUser(label);
    showTyping();
  }

  function sendText() {
    var text = ui.input.value.trim();
    if (!text || !connected) return;
    var frame = { type: "text", text: text, id: newId() };
    if (new TextEncoder().encode(JSON.stringify(frame)).length > MAX_FRAME_BYTES) {
      addNotice(t("too_long", { max: MAX_LENGTH }), "error");
      return;
    }
    if (!transmit(frame)) {
      addNotice(t("not_connected_not_sent"), "error");
      return;
    }
    sentSinceBatch = true;
    renderUser(text);
    ui.input.value = "";
    onInput();
    showTyping();
  }

  function onInput() {
    var input = ui.input;
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 160) + "px";
    var length = input.value.length;
    ui.counter.textContent = length >= COUNTER_FROM ? length + " / " + MAX_LENGTH : "";
    ui.counter.classList.toggle("counter-full", length >= MAX_LENGTH);
    ui.send.disabled = !connected || !input.value.trim();
  }

  // ---------- files ----------

  function uploadError(text) {
    hideTyping();
    restoreChoices();
    addNotice(text, "error");
  }

  /** The server's refusal of an upload, in the page's words where the page knows the reason (the
   *  server's own text is English); else the server's reason (`error`, or a 413's `detail`). */
  function uploadRefusal(status, data) {
    var known = { 409: "file_not_asked", 413: "file_too_big", 415: "file_type" };
    if (known[status]) return t(known[status]);
    return (data && asText(data.error || data.detail)) || t("file_failed", { status: status });
  }

  function sendFile(file) {
    if (!file || uploading || !connected) return;
    var typeOk = UPLOAD_TYPES.indexOf(file.type) >= 0 || UPLOAD_EXTENSIONS.test(file.name || "");
    if (!typeOk) {
      addNotice(t("file_type"), "error");
      return;
    }
    if (file.size > MAX_UPLOAD_BYTES) {
      addNotice(t("file_too_big"), "error");
      return;
    }
    if (file.size === 0) {
      addNotice(t("file_empty"), "error");
      return;
    }
    var body = new FormData();
    body.append("file", file, file.name || "upload");
    body.append("id", newId());
    uploading = true;
    ui.attach.classList.add("busy");
    ui.attach.disabled = true;
    disableChoices();
    sentSinceBatch = true;
    renderUser("📎 " + (file.name || t("file")));
    showTyping();
    fetch("/web/upload", { method: "POST", credentials: "same-origin", body: body })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) {
          if (!response.ok || !data || data.ok !== true) {
            uploadError(uploadRefusal(response.status, data));
            return;
          }
          if (data.locale) applyLocale(data.locale);
          // The answer normally comes on the socket; a page whose socket was closed meanwhile
          // shows it from the response instead.
          if (data.delivered === 0 && Array.isArray(data.replies)) onReplies(data.replies);
        });
      })
      .catch(function () { uploadError(t("not_connected_file")); })
      .then(function () {
        uploading = false;
        ui.attach.classList.remove("busy");
        ui.attach.disabled = !connected;
        ui.fileInput.value = "";
      });
  }

  ui.attach.addEventListener("click", function () {
    if (!ui.attach.disabled) ui.fileInput.click();
  });
  ui.fileInput.addEventListener("change", function () {
    var files = ui.fileInput.files;
    if (files && files.length) sendFile(files[0]);
  });

  ui.form.addEventListener("submit", function (event) {
    event.preventDefault();
    sendText();
    if (document.activeElement === ui.send || focusWasLost()) ui.input.focus();
  });

  // Tapping "send" keeps the focus (and the phone keyboard) in the message box.
  ui.send.addEventListener("mousedown", function (event) { event.preventDefault(); });

  ui.input.addEventListener("input", onInput);

  ui.input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    sendText();
  });

  // ---------- connection ----------

  function setConnected(state) {
    connected = state;
    ui.app.classList.toggle("is-offline", !state);
    ui.conn.dataset.state = state ? "online" : everConnected ? "offline" : "connecting";
    connectionWords();
    ui.attach.disabled = !state || uploading;
    if (!state) disableChoices();
    else updateChoiceAvailability();
    setNoticeChoices(state);
    onInput();
  }

  function connectionWords() {
    ui.connLabel.textContent = t(connected ? "online" : everConnected ? "reconnecting" : "connecting");
    ui.input.placeholder = t(connected ? "placeholder" : "placeholder_offline");
  }

  function showBanner(text) {
    ui.bannerText.textContent = text;
    ui.banner.hidden = false;
  }

  function hideBanner() {
    ui.banner.hidden = true;
    window.clearTimeout(connectingTimer);
  }

  function socketUrl() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + "/ws";
  }

  function connect() {
    window.clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (leaving) return;
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) return;
    if (!everConnected) {
      window.clearTimeout(connectingTimer);
      connectingTimer = window.setTimeout(function () { if (!connected) showBanner(t("connecting")); }, 1500);
    }
    var ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    socket = ws;
    var opened = false;
    ws.addEventListener("open", function () {
      if (socket !== ws) return;
      opened = true;
      attempt = 0;
      failedHandshakes = 0;
      everConnected = true;
      freshConnection = true;
      hideBanner();
      setConnected(true);
    });
    ws.addEventListener("message", function (event) {
      if (socket !== ws) return;
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (!data || typeof data !== "object") return;
      if (data.locale) applyLocale(data.locale);
      if (data.type === "history") {
        onHistory(Array.isArray(data.messages) ? data.messages : []);
      } else if (data.type === "replies") {
        onReplies(Array.isArray(data.replies) ? data.replies : []);
      } else if (data.type === "notice") {
        onNotices(Array.isArray(data.replies) ? data.replies : []);
      } else if (data.type === "dev") {
        addDevEntry(asText(data.text));
      } else if (data.type === "error") {
        hideTyping();
        restoreChoices();
        setNoticeChoices(connected); // the press was not taken: its notification's buttons come back
        addNotice(asText(data.text) || t("something_wrong"), "error");
      }
    });
    ws.addEventListener("close", function (event) {
      if (socket !== ws) return;
      socket = null;
      hideTyping();
      setConnected(false);
      if (leaving) return;
      // A refused handshake (the browser sees 1006, or 4401 after accept) usually means the session
      // cookie is gone or expired: loading the page again sets a fresh one (and keeps a valid one).
      if (!opened) failedHandshakes += 1;
      if (event.code === 4401 || failedHandshakes >= 2) refreshSession();
      scheduleReconnect();
    });
  }

  function refreshSession() {
    if (refreshingSession) return;
    refreshingSession = true;
    fetch("/", { credentials: "same-origin", cache: "no-store" })
      .catch(function () { return null; })
      .then(function () { refreshingSession = false; });
  }

  function scheduleReconnect() {
    if (leaving || reconnectTimer) return;
    var offline = navigator.onLine === false;
    showBanner(t(offline ? "offline" : "reconnecting"));
    if (offline) return; // the "online" event reconnects
    var base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
    attempt += 1;
    var delay = Math.round(base * (0.8 + Math.random() * 0.4));
    reconnectTimer = window.setTimeout(connect, delay);
  }

  window.addEventListener("online", function () {
    attempt = 0;
    if (!connected) connect();
  });
  window.addEventListener("offline", function () {
    if (!connected) showBanner(t("offline"));
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !connected && !leaving) {
      attempt = 0;
      connect();
    }
  });
  window.addEventListener("pagehide", function () {
    leaving = true;
    if (socket) socket.close(1000);
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      leaving = false;
      connect();
    }
  });

  // ---------- developer panel ----------

  function setDevOpen(open) {
    ui.devPanel.hidden = !open;
    ui.devToggle.setAttribute("aria-expanded", open ? "true" : "false");
    ui.app.classList.toggle("dev-open", open);
    if (open) {
      unreadDev = 0;
      ui.devBadge.hidden = true;
      ui.devBadge.textContent = "";
    }
  }

  function addDevEntry(text) {
    var item = el("li", "dev-entry");
    item.appendChild(el("time", "dev-time", clock()));
    var message = el("p", "dev-text");
    var match = CODE_PATTERN.exec(text);
    if (match) {
      message.appendChild(document.createTextNode(text.slice(0, match.index)));
      message.appendChild(el("strong", "otp", match[0]));
      message.appendChild(document.createTextNode(text.slice(match.index + match[0].length)));
    } else {
      message.textContent = text;
    }
    item.appendChild(message);
    if (match) {
      var code = match[0];
      var use = el("button", "dev-use", "Use code");
      use.type = "button";
      use.setAttribute("aria-label", "Put code " + code.split("").join(" ") + " in the message box");
      use.addEventListener("click", function () {
        ui.input.value = code;
        onInput();
        ui.input.focus();
      });
      item.appendChild(use);
    }
    ui.devLog.insertBefore(item, ui.devLog.firstChild);
    ui.devEmpty.hidden = true;
    while (ui.devLog.children.length > 50) ui.devLog.removeChild(ui.devLog.lastChild);
    if (ui.devPanel.hidden && !ui.devToggle.hidden) {
      unreadDev += 1;
      ui.devBadge.textContent = unreadDev > 9 ? "9+" : String(unreadDev);
      ui.devBadge.hidden = false;
    }
  }

  function postAndReload(path, body, busyText) {
    var buttons = ui.devPanel.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    ui.devStatus.textContent = busyText;
    fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        leaving = true;
        if (socket) socket.close(1000);
        window.location.reload();
      })
      .catch(function (error) {
        Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
        ui.devStatus.textContent = "That didn't work (" + asText(error && error.message) + "). Please try again.";
      });
  }

  function setupDevTools(config) {
    if (!config || config.demo_tools !== true) return;
    ui.devToggle.hidden = false;
    ui.app.classList.add("has-dev");
    var personas = Array.isArray(config.personas) ? config.personas : [];
    personas.forEach(function (persona) {
      if (!persona || typeof persona !== "object") return;
      var id = asText(persona.id);
      if (!id) return;
      var button = el("button", "persona", asText(persona.label) || id);
      button.type = "button";
      button.dataset.persona = id;
      button.addEventListener("click", function () {
        postAndReload("/web/persona", { persona: id }, "Switching to " + (asText(persona.label) || id) + "…");
      });
      ui.personas.appendChild(button);
    });
    if (!personas.length) ui.personas.appendChild(el("p", "dev-empty", "No personas available."));
    ui.devToggle.addEventListener("click", function () {
      setDevOpen(ui.devPanel.hidden);
    });
    ui.signout.addEventListener("click", function () {
      postAndReload("/web/signout", {}, "Starting a new chat…");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !ui.devPanel.hidden) {
        setDevOpen(false);
        ui.devToggle.focus();
      }
    });
  }

  function loadConfig() {
    fetch("/web/config", { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(setupDevTools)
      .catch(function () { /* no developer tools */ });
  }

  // ---------- start ----------

  setConnected(false);
  restoreSos();
  loadConfig();
  connect();
})();
