/// The UI's stylesheet and script, embedded in the binary and served from `/ui/static/`.
/// Plain CSS and JavaScript: no build step, nothing fetched from elsewhere. The script is
/// an enhancement only; every page works without it.
enum Assets {
    static let stylesheet = #"""
        :root {
          --bg: #ffffff; --fg: #1d2327; --muted: #5f6b73; --line: #dde3e8; --panel: #f5f7f9;
          --accent: #0b63c4; --danger: #b3261e; --ok: #1e7d32; --code: #eef2f5;
          color-scheme: light dark;
        }
        @media (prefers-color-scheme: dark) {
          :root {
            --bg: #15191d; --fg: #e3e7ea; --muted: #9aa5ad; --line: #2c343b; --panel: #1c2227;
            --accent: #6cb0ff; --danger: #ff8a80; --ok: #7bd88f; --code: #232a30;
          }
        }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--fg);
          font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
        header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem;
          padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); background: var(--panel); }
        header.top .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
        header.top nav { display: flex; gap: .8rem; flex: 1; }
        header.top form { margin: 0; }
        main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.2rem 3rem; }
        a { color: var(--accent); }
        a:focus, button:focus, input:focus, summary:focus { outline: 2px solid var(--accent); outline-offset: 2px; }
        h1 { font-size: 1.4rem; margin: .6rem 0 1rem; word-break: break-all; }
        h2 { font-size: 1.1rem; margin: 1.6rem 0 .6rem; }
        table { width: 100%; border-collapse: collapse; }
        th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { color: var(--muted); font-weight: 600; font-size: .85rem; }
        td.num, th.num { text-align: right; white-space: nowrap; }
        code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .88em;
          background: var(--code); border-radius: 4px; }
        code { padding: .05rem .3rem; word-break: break-all; }
        pre { padding: .7rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
        .muted { color: var(--muted); }
        .notice { padding: .6rem .8rem; border: 1px solid var(--line); border-left: 4px solid var(--accent);
          background: var(--panel); margin: .8rem 0; }
        .notice.error { border-left-color: var(--danger); }
        .notice.ok { border-left-color: var(--ok); }
        .toolbar { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-bottom: .8rem; }
        input[type=text], input[type=search], input[type=password] { font: inherit; color: var(--fg);
          background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: .35rem .5rem; min-width: 16rem; }
        button, .button { font: inherit; cursor: pointer; border: 1px solid var(--line); border-radius: 4px;
          padding: .3rem .7rem; background: var(--panel); color: var(--fg); text-decoration: none; display: inline-block; }
        button.danger, .button.danger { color: var(--danger); border-color: var(--danger); }
        button.primary { background: var(--accent); border-color: var(--accent); color: var(--bg); }
        button.link { border: none; background: none; color: var(--accent); padding: 0; text-decoration: underline; }
        dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
        dl.fields dt { color: var(--muted); }
        dl.fields dd { margin: 0; word-break: break-all; }
        .signin { max-width: 22rem; margin: 3rem auto; }
        .signin label { display: block; margin: .6rem 0 .2rem; }
        .signin input { width: 100%; min-width: 0; }
        .signin button { margin-top: 1rem; }
        .pager { margin-top: 1rem; display: flex; gap: 1rem; }
        th a { color: inherit; }
        th[aria-sort] a::after { content: " ↓"; }
        th[aria-sort=ascending] a::after { content: " ↑"; }
        .toolbar a.current { font-weight: 600; color: var(--fg); text-decoration: none; }
        .small { font-size: .85rem; }
        dl.fields + .toolbar { margin-top: 1rem; }
        td time { white-space: nowrap; }
        .tag-badge { display: inline-block; font-size: .8rem; padding: 0 .4rem; border: 1px solid var(--line);
          border-radius: 3px; color: var(--muted); }
        [hidden] { display: none !important; }
        .offscreen { position: absolute; left: -9999px; }
        ul.plain { list-style: none; padding: 0; margin: 0; }
        @media (max-width: 40rem) {
          th.wide, td.wide { display: none; }
          input[type=search] { min-width: 0; width: 100%; }
        }
        """#

    static let script = #"""
        // Berth web UI: filter-as-you-type and copy buttons. Nothing here is needed for the
        // pages to work; it only saves typing.
        (function () {
          "use strict";
          function filterRows(input) {
            var table = document.getElementById(input.getAttribute("data-filter"));
            if (!table) { return; }
            var needle = input.value.trim().toLowerCase();
            var rows = table.querySelectorAll("tbody tr[data-name]");
            var shown = 0;
            rows.forEach(function (row) {
              var match = row.getAttribute("data-name").toLowerCase().indexOf(needle) !== -1;
              row.hidden = !match;
              if (match) { shown += 1; }
            });
            var empty = document.getElementById(input.getAttribute("data-filter") + "-none");
            if (empty) { empty.hidden = shown !== 0; }
          }
          function copy(button) {
            var text = button.getAttribute("data-copy");
            function done(ok) {
              var label = button.textContent;
              button.textContent = ok ? "Copied" : "Copy failed";
              setTimeout(function () { button.textContent = label; }, 1500);
            }
            if (navigator.clipboard && window.isSecureContext) {
              navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
              return;
            }
            var area = document.createElement("textarea");
            area.value = text;
            area.setAttribute("readonly", "");
            area.className = "offscreen";
            document.body.appendChild(area);
            area.select();
            var ok = false;
            try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
            document.body.removeChild(area);
            done(ok);
          }
          document.addEventListener("DOMContentLoaded", function () {
            document.querySelectorAll("input[data-filter]").forEach(function (input) {
              input.addEventListener("input", function () { filterRows(input); });
            });
            document.querySelectorAll("button[data-copy]").forEach(function (button) {
              button.hidden = false;
              button.addEventListener("click", function () { copy(button); });
            });
          });
        })();
        """#
}
