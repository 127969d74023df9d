// Warroom's only script. Pages work without it; it adds local times,
// running clocks, live refresh over Server-Sent Events and keyboard
// shortcuts.
"use strict";
(function () {
  var fmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

  // The server lays out calendars in this zone on the next load.
  if (document.cookie.indexOf("tz=" + zone) < 0) {
    document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
  }

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.textContent = fmt.format(d);
      el.title = d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
    });
  }

  function words(ms) {
    var s = Math.floor(Math.abs(ms) / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + m + "m";
    if (m > 0) return m + "m";
    return s + "s";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".age[data-since]:not([data-stopped])").forEach(function (el) {
      el.textContent = words(now - Date.parse(el.dataset.since));
    });
    document.querySelectorAll(".clock[data-due]:not([data-met])").forEach(function (el) {
      var start = Date.parse(el.dataset.start), due = Date.parse(el.dataset.due);
      var state = now > due ? "red" : (now - start) * 4 >= (due - start) * 3 ? "amber" : "ok";
      el.className = "clock clock-" + state;
      el.querySelector(".clock-text").textContent = now > due ? words(now - due) + " over" : words(due - now) + " left";
    });
  }

  // Live refresh: fetch this page again and swap each [data-region] whose
  // content changed, unless the person is typing inside it. At most one
  // fetch a second and one at a time, however many changes an alert storm
  // announces: the next fetch picks up all of them.
  var MIN_GAP = 1000;
  var pending = null, deferred = false, inFlight = false, again = false, lastFetch = 0;
  function refresh() {
    pending = null;
    inFlight = true;
    lastFetch = Date.now();
    fetch(location.href, { headers: { "X-Warroom-Live": "1" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var seen = {};
        document.querySelectorAll(".timeline .ev").forEach(function (ev) { seen[ev.dataset.seq] = true; });
        doc.querySelectorAll("[data-region]").forEach(function (fresh) {
          var old = document.querySelector('[data-region="' + fresh.dataset.region + '"]');
          if (!old || old.innerHTML === fresh.innerHTML) return;
          var active = document.activeElement;
          if (active && old.contains(active) && /INPUT|TEXTAREA|SELECT/.test(active.tagName)) { deferred = true; return; }
          var keepOpen = Array.prototype.map.call(old.querySelectorAll("details[open]"), function (d) { return d.querySelector("summary").textContent; });
          old.replaceWith(fresh);
          fresh.querySelectorAll("details").forEach(function (d) { if (keepOpen.indexOf(d.querySelector("summary").textContent) >= 0) d.open = true; });
          fresh.querySelectorAll(".timeline .ev").forEach(function (ev) {
            if (!seen[ev.dataset.seq]) ev.classList.add("fresh");
          });
          localTimes(fresh);
        });
        tick();
      })
      .catch(function () {})
      .then(function () {
        inFlight = false;
        if (again) { again = false; scheduleRefresh(); }
      });
  }
  function scheduleRefresh() {
    if (pending) return;
    if (inFlight) { again = true; return; }
    pending = setTimeout(refresh, Math.max(150, lastFetch + MIN_GAP - Date.now()));
  }
  document.addEventListener("focusout", function () { if (deferred) { deferred = false; setTimeout(scheduleRefresh, 50); } });

  function live() {
    var scope = document.body.dataset.live;
    if (!scope || !window.EventSource) return;
    var status = document.getElementById("live-status");
    var source = new EventSource("/events"), broken = false;
    source.addEventListener("change", function (e) {
      var change;
      try { change = JSON.parse(e.data); } catch (_) { return; }
      if (scope === "all" || change.id === "*" || scope === "incident:" + change.id) scheduleRefresh();
    });
    source.addEventListener("open", function () {
      if (status) status.hidden = true;
      // Whatever happened while disconnected (a server restart) shows now.
      if (broken) { broken = false; scheduleRefresh(); }
    });
    source.addEventListener("error", function () {
      broken = true;
      if (status) { status.textContent = "Live updates paused: reconnecting to the server…"; status.hidden = false; }
    });
  }

  var lastG = 0;
  function shortcuts(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (/INPUT|TEXTAREA|SELECT/.test(t.tagName) || t.isContentEditable)) {
      if (e.key === "Escape") t.blur();
      return;
    }
    var click = function (sel) { var el = document.querySelector(sel); if (el) { e.preventDefault(); el.click(); } return !!el; };
    var focus = function (sel) { var el = document.querySelector(sel); if (el) { e.preventDefault(); el.focus(); } return !!el; };
    if (Date.now() - lastG < 1200) {
      lastG = 0;
      click('[data-key="g ' + e.key + '"]');
      return;
    }
    switch (e.key) {
      case "g": lastG = Date.now(); break;
      case "d": click('[data-key="d"]'); break;
      case "a": click('#ack'); break;
      case "n": focus('[data-key="n"]'); break;
      case "u": focus('[data-key="u"]'); break;
      case "/": if (!focus("[data-search]")) { e.preventDefault(); location.href = "/incidents"; } break;
      case "?": var dlg = document.getElementById("shortcuts"); if (dlg && dlg.showModal) { e.preventDefault(); dlg.showModal(); } break;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    tick();
    setInterval(tick, 1000);
    document.addEventListener("change", function (e) {
      var fill = e.target.dataset && e.target.dataset.fill;
      if (fill && e.target.value) { var area = document.querySelector(fill); if (area) { area.value = e.target.value; area.focus(); } }
    });
    document.addEventListener("keydown", shortcuts);
    live();
  });
})();
