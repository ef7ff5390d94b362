"""The analyzer page's inline style sheet and script (no CDN, no network access)."""

CSS = """
:root { --blue: #0072BD; --error: #c0392b; --error-bg: #fde8e4; --warning: #b9770e;
        --warning-bg: #fdf3dc; --select: #ffe9a8; --line: #d0d4da; }
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; font: 13px/1.35 "Segoe UI", Helvetica, Arial, sans-serif;
             color: #1d2329; background: #f4f5f7; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 22px; padding: 10px 16px;
         background: #fff; border-bottom: 1px solid var(--line); }
header h1 { font-size: 17px; margin: 0 12px 0 0; font-weight: 600; }
.stat b { font-size: 15px; }
.pill { padding: 1px 9px; border-radius: 10px; background: #e9edf2; }
.pill.error.some { background: var(--error-bg); color: var(--error); }
.pill.warning.some { background: var(--warning-bg); color: var(--warning); }
main { display: flex; height: calc(100% - 50px); min-height: 300px; }
#graph-pane { flex: 0 0 auto; max-width: 42%; overflow: auto; background: #fff;
              border-right: 1px solid var(--line); }
#side { flex: 1 1 auto; overflow: auto; padding: 0 0 24px 0; }
#graph .arc path { fill: none; stroke: var(--blue); stroke-width: 1.1; }
#graph .arc polygon { fill: var(--blue); }
#graph .arc.reversed path { stroke-dasharray: 4 3; }
#graph .node { cursor: pointer; }
#graph .node circle { fill: var(--blue); }
#graph .node text { fill: #1d2329; }
#graph .node.error circle { fill: var(--error); }
#graph .node.error text { fill: var(--error); font-weight: 600; }
#graph .node.warning circle { fill: var(--warning); }
#graph .node.selected circle { stroke: #000; stroke-width: 2; r: 7; }
#graph .node.selected text { font-weight: 700; }
#graph .node:hover text { text-decoration: underline; }
#issues { margin: 12px 16px; padding: 8px 12px; background: #fff; border: 1px solid var(--line);
          border-radius: 4px; }
#issues h2, #table-title { font-size: 14px; margin: 2px 0 6px 0; }
#issues ul { margin: 0; padding-left: 18px; }
#issues li { margin: 3px 0; }
#issues li.error .sev { color: var(--error); font-weight: 600; }
#issues li.warning .sev { color: var(--warning); font-weight: 600; }
#table-title { margin: 12px 16px 6px 16px; }
table { border-collapse: collapse; margin: 0 16px; background: #fff; min-width: calc(100% - 32px); }
th, td { border-bottom: 1px solid #e3e6ea; padding: 4px 8px; text-align: left; vertical-align: top;
         white-space: nowrap; }
th { position: sticky; top: 0; background: #eef1f5; font-weight: 600; z-index: 1; }
td.num { text-align: right; color: #68717b; }
tr.layer { cursor: pointer; }
tr.layer:hover { background: #f3f7fb; }
tr.layer.error { background: var(--error-bg); }
tr.layer.warning { background: var(--warning-bg); }
tr.layer.selected { background: var(--select); outline: 2px solid #e0b000; }
td .type { color: #68717b; }
tfoot td { font-weight: 600; background: #f7f8fa; }
#selfcheck { display: none; }
"""

JS = """
(function () {
  "use strict";
  var errors = window.__pageErrors;
  function byIndex(prefix, i) { return document.getElementById(prefix + i); }
  function select(i, scrollGraph, scrollTable) {
    var old = document.querySelectorAll(".selected");
    for (var k = 0; k < old.length; k++) { old[k].classList.remove("selected"); }
    var row = byIndex("row-", i), node = byIndex("node-", i);
    if (row) {
      row.classList.add("selected");
      if (scrollTable) { row.scrollIntoView({block: "center"}); }
    }
    if (node) {
      node.classList.add("selected");
      if (scrollGraph) { node.scrollIntoView({block: "center", inline: "nearest"}); }
    }
    if (row && history.replaceState) { history.replaceState(null, "", "#row-" + i); }
  }
  function onActivate(el, handler) {
    el.addEventListener("click", function (ev) { ev.preventDefault(); handler(); });
    el.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); handler(); }
    });
  }
  var nodes = document.querySelectorAll("#graph g.node");
  var rows = document.querySelectorAll("#layers tbody tr.layer");
  var links = document.querySelectorAll("#issues a.layer-link");
  Array.prototype.forEach.call(nodes, function (n) {
    onActivate(n, function () { select(n.getAttribute("data-index"), false, true); });
  });
  Array.prototype.forEach.call(rows, function (r) {
    onActivate(r, function () { select(r.getAttribute("data-index"), true, false); });
  });
  Array.prototype.forEach.call(links, function (a) {
    onActivate(a, function () { select(a.getAttribute("data-index"), true, true); });
  });
  function click(el) { el.dispatchEvent(new MouseEvent("click", {bubbles: true, cancelable: true})); }
  function selfCheck() {
    var result = {rows: rows.length, nodes: nodes.length,
                  arcs: document.querySelectorAll("#graph g.arc").length,
                  issues: document.querySelectorAll("#issues li").length,
                  errorRows: document.querySelectorAll("tr.layer.error").length,
                  errorNodes: document.querySelectorAll("#graph g.node.error").length};
    if (location.hash === "#selfcheck") {
      if (nodes.length) {
        var k = Math.floor(nodes.length / 2);
        click(nodes[k]);
        var row = byIndex("row-", nodes[k].getAttribute("data-index"));
        result.nodeClickSelectsRow = !!row && row.classList.contains("selected");
        click(rows[0]);
        result.rowClickSelectsNode = byIndex("node-", rows[0].getAttribute("data-index"))
          .classList.contains("selected");
      }
      if (links.length) {
        click(links[0]);
        result.issueLinkSelectsRow = byIndex("row-", links[0].getAttribute("data-index"))
          .classList.contains("selected");
      }
    }
    result.errors = errors;
    document.getElementById("selfcheck").textContent = JSON.stringify(result);
    document.body.setAttribute("data-selfcheck", "done");
  }
  try { selfCheck(); } catch (e) {
    errors.push(String(e));
    document.getElementById("selfcheck").textContent = JSON.stringify({errors: errors});
  }
  if (/^#row-\\d+$/.test(location.hash)) { select(location.hash.slice(5), true, true); }
})();
"""

# Runs first (in <head>): collects script errors for the self-check.
ERROR_TRAP = """window.__pageErrors = [];
window.addEventListener("error", function (e) { window.__pageErrors.push(String(e.message)); });"""
