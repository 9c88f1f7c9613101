/* MechInterp.NET views runtime: tooltips for [data-tip] elements and the interactive attention view.
   Self-contained (no network), safe to include more than once on a page: it initialises each view section once. */
(function () {
  "use strict";
  var MI = window.MechInterpViews;
  if (MI && MI.initAll) { MI.initAll(); return; }
  MI = window.MechInterpViews = {};

  // Same scale as ColorScale.cs: white at 0, red (178,24,43) at +max, blue (33,102,172) at -max.
  function color(t) {
    if (!isFinite(t)) return "rgb(200,200,200)";
    t = Math.max(-1, Math.min(1, t));
    var e = t >= 0 ? [178, 24, 43] : [33, 102, 172], a = Math.abs(t);
    return "rgb(" + Math.round(255 + (e[0] - 255) * a) + "," + Math.round(255 + (e[1] - 255) * a) + "," + Math.round(255 + (e[2] - 255) * a) + ")";
  }
  // Attention weights in [0, 1]: white → blue.
  function attnColor(w) { return color(-Math.max(0, Math.min(1, w))); }
  function fmt(v) { return Math.abs(v) >= 1e-3 || v === 0 ? v.toPrecision(4).replace(/\.?0+$/, "") : v.toExponential(2); }
  function shown(tok) { return tok.replace(/\r/g, "\u240D").replace(/\n/g, "\u21B5").replace(/\t/g, "\u2192"); }
  function quote(tok) { return "'" + tok.replace(/\n/g, "\\n").replace(/\t/g, "\\t") + "'"; }
  function short(tok, n) { var s = shown(tok); return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }
  var SVG = "http://www.w3.org/2000/svg";
  function el(ns, name, attrs) {
    var e = ns ? document.createElementNS(ns, name) : document.createElement(name);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    return e;
  }

  // ---- tooltip (one per page) ----
  var tip = null;
  function ensureTip() {
    if (tip) return tip;
    tip = document.createElement("div");
    tip.className = "mi-tip";
    document.body.appendChild(tip);
    document.addEventListener("mouseover", function (ev) {
      var t = ev.target && ev.target.closest ? ev.target.closest("[data-tip]") : null;
      if (!t) { tip.style.display = "none"; return; }
      tip.textContent = t.getAttribute("data-tip");
      tip.style.display = "block";
    });
    document.addEventListener("mousemove", function (ev) {
      if (tip.style.display === "none") return;
      tip.style.left = Math.min(ev.clientX + 12, window.innerWidth - tip.offsetWidth - 4) + "px";
      tip.style.top = (ev.clientY + 14) + "px";
    });
    return tip;
  }

  // ---- attention patterns: head thumbnails, the selected head's grid, token hover ----
  function initAttention(sec, data) {
    var tokens = data.tokens, pattern = data.pattern, labels = data.heads, n = tokens.length;
    var heads = sec.querySelectorAll(".mi-head");
    var grid = sec.querySelector(".mi-attn-grid"), caption = sec.querySelector(".mi-attn-caption");
    var toks = sec.querySelectorAll(".mi-attn-tokens .mi-token");
    var selected = 0;
    heads.forEach(function (btn) {
      var h = +btn.getAttribute("data-head"), c = btn.querySelector("canvas");
      c.width = n; c.height = n;
      var ctx = c.getContext("2d");
      for (var q = 0; q < n; q++) for (var k = 0; k < n; k++) { ctx.fillStyle = attnColor(pattern[h][q][k]); ctx.fillRect(k, q, 1, 1); }
      btn.addEventListener("click", function () { select(h); });
    });
    function drawGrid(h) {
      while (grid.firstChild) grid.removeChild(grid.firstChild);
      var cell = Math.max(8, Math.min(26, Math.floor(460 / n))), left = 96, top = 80;
      grid.setAttribute("width", left + n * cell + 4);
      grid.setAttribute("height", top + n * cell + 4);
      for (var i = 0; i < n; i++) {
        var ql = el(SVG, "text", { x: left - 4, y: top + i * cell + cell * 0.7, "text-anchor": "end" });
        ql.textContent = short(tokens[i], 12);
        grid.appendChild(ql);
        var kx = left + i * cell + cell * 0.7;
        var kl = el(SVG, "text", { x: kx, y: top - 4, transform: "rotate(-60 " + kx + " " + (top - 4) + ")" });
        kl.textContent = short(tokens[i], 12);
        grid.appendChild(kl);
      }
      for (var q = 0; q < n; q++) for (var k = 0; k < n; k++) {
        var w = pattern[h][q][k];
        grid.appendChild(el(SVG, "rect", {
          "class": "mi-attn-cell", x: left + k * cell, y: top + q * cell, width: cell - 1, height: cell - 1,
          fill: attnColor(w), "data-q": q, "data-k": k, "data-value": fmt(w),
          "data-tip": labels[h] + ": " + quote(tokens[q]) + " (" + q + ") \u2192 " + quote(tokens[k]) + " (" + k + ") = " + fmt(w)
        }));
      }
      grid.setAttribute("data-head", h);
    }
    function select(h) {
      selected = h;
      heads.forEach(function (b) { b.classList.toggle("mi-selected", +b.getAttribute("data-head") === h); });
      caption.textContent = "Head " + labels[h] + ": rows are queries (destination), columns keys (source)";
      drawGrid(h);
      reset();
    }
    function reset() { toks.forEach(function (t) { t.style.background = ""; t.style.color = ""; t.classList.remove("mi-focus"); }); }
    toks.forEach(function (t) {
      var q = +t.getAttribute("data-pos");
      t.addEventListener("mouseenter", function () {
        toks.forEach(function (o) {
          var k = +o.getAttribute("data-pos"), w = pattern[selected][q][k];
          o.style.background = attnColor(w);
          o.style.color = w > 0.6 ? "#fff" : "";
          o.setAttribute("data-tip", labels[selected] + ": " + quote(tokens[q]) + " \u2192 " + quote(tokens[k]) + " = " + fmt(w));
        });
        t.classList.add("mi-focus");
      });
      t.addEventListener("mouseleave", reset);
    });
    select(0);
  }

  var inits = { attention: initAttention };
  MI.initAll = function () {
    ensureTip();
    document.querySelectorAll("section[data-mi-view]").forEach(function (sec) {
      if (sec.getAttribute("data-mi-ready")) return;
      var f = inits[sec.getAttribute("data-mi-view")];
      if (f) {
        var d = sec.querySelector("script.mi-data");
        f(sec, d ? JSON.parse(d.textContent) : null);
      }
      sec.setAttribute("data-mi-ready", "1");
    });
    document.documentElement.setAttribute("data-mi-ready", "1");
  };
  MI.color = color;
  MI.initAll();
})();
