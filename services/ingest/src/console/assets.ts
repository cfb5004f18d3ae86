/**
 * The console's static files, served from ingest as they are (no build step):
 * its style sheet, its one small script and its icon. The pages carry no inline
 * script or style (the Content-Security-Policy forbids both), so everything
 * that is not markup is here.
 */

/**
 * Progressive: a page whose <main> says `data-refresh="N"` fetches itself every
 * N seconds while visible and swaps its <main> for the new one when it changed
 * (the server draws its pages to the minute, so an unchanged record reads the same).
 * Without JavaScript the page is the same, only still. When the session has
 * ended it stops and says so rather than showing the login inside the page.
 */
export const CONSOLE_JS = `'use strict';
(function () {
  var main = document.getElementById('main');
  if (!main) return;
  var seconds = Number(main.getAttribute('data-refresh'));
  if (!(seconds > 0)) return;
  var status = document.getElementById('refresh-status');
  var timer = null;
  var busy = false;
  // What the server sent last: a page is swapped only when the server's answer changed.
  var last = main.innerHTML;
  var stopped = false;
  function say(text) {
    if (status) status.textContent = text;
  }
  function schedule() {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(tick, seconds * 1000);
  }
  function tick() {
    if (stopped || busy) return;
    if (document.hidden) return schedule();
    busy = true;
    fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' }, cache: 'no-store', redirect: 'manual' })
      .then(function (res) {
        if (res.type === 'opaqueredirect' || res.status === 401 || res.status === 403) {
          stopped = true;
          say('session ended: reload the page to log in again');
          return;
        }
        if (!res.ok) {
          say('could not refresh (HTTP ' + res.status + '); trying again');
          return;
        }
        return res.text().then(function (text) {
          var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('main');
          if (fresh && fresh.innerHTML !== last) {
            last = fresh.innerHTML;
            var nodes = Array.prototype.map.call(fresh.childNodes, function (n) {
              return document.importNode(n, true);
            });
            main.replaceChildren.apply(main, nodes);
          }
          say('live: updated ' + new Date().toLocaleTimeString());
        });
      })
      .catch(function () {
        say('could not refresh; trying again');
      })
      .then(function () {
        busy = false;
        schedule();
      });
  }
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) tick();
  });
  say('live: refreshes every ' + seconds + ' s');
  schedule();
})();
`;

export const CONSOLE_CSS = `:root {
  --ink: #1d2329; --muted: #5c6670; --line: #d8dee4; --bg: #f6f8fa; --card: #fff; --accent: #0b5cad;
  --rollback: #d9480f; --recommend: #1c7ed6; --escalate: #9c36b5; --hold: #e8a100; --ignore: #8a939b;
  --ok: #2b8a3e; --bad: #c92a2a; --flight: #1971c2;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--accent); }
header.top { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #132235; color: #fff; }
header.top a { color: #fff; text-decoration: none; }
header.top .brand { font-weight: 700; letter-spacing: .02em; }
header.top nav { flex: 1; }
header.top .refresh { color: #b8c4d0; font-size: 12px; }
header.top form { margin: 0; }
header.top button { background: transparent; color: #fff; border: 1px solid #5b6b7d; border-radius: 4px; padding: .2rem .7rem; cursor: pointer; }
main { max-width: 1180px; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; }
h1 { font-size: 1.5rem; margin: .2rem 0 .4rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
.sub, .muted { color: var(--muted); }
.muted { font-size: 12.5px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .9rem 1.1rem; margin: .8rem 0; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid var(--line); }
th { background: #eef1f4; font-weight: 600; font-size: 12.5px; }
tr.needs-human td:first-child { border-left: 4px solid var(--bad); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 3px; color: #fff; font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
.badge.action-rollback { background: var(--rollback); } .badge.action-recommend { background: var(--recommend); }
.badge.action-escalate { background: var(--escalate); } .badge.action-hold { background: var(--hold); color: #222; }
.badge.action-ignore { background: var(--ignore); }
.badge.rollback-succeeded, .badge.rollback-validated { background: var(--ok); } .badge.rollback-failed { background: var(--bad); }
.badge.rollback-superseded { background: var(--ignore); } .badge.rollback-accepted, .badge.rollback-started, .badge.rollback-ordered { background: var(--flight); }
.mode { font-weight: 600; } .mode-off { color: var(--bad); } .mode-observe, .mode-recommend { color: var(--recommend); }
.attention { margin-top: .25rem; font-size: 12.5px; } .attention a { color: var(--bad); font-weight: 600; }
.control { color: var(--bad); font-weight: 600; }
.reason { max-width: 44rem; }
.verdicts td.mark { width: 6.5rem; white-space: nowrap; font-weight: 600; }
.verdicts tr.passed td.mark { color: var(--ok); } .verdicts tr.failed td.mark { color: var(--bad); }
.verdicts tr.decisive { background: #fff4e6; }
svg.timeline { display: block; width: 100%; height: auto; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
svg .lane-label { fill: var(--muted); font-weight: 600; }
svg .lane-line, svg .tick { stroke: var(--line); }
svg .axis { stroke: #9aa5b1; }
svg .tick-label { fill: var(--muted); }
svg .now { stroke: #132235; stroke-dasharray: 3 3; }
svg .release-even { fill: #d0e3f7; } svg .release-odd { fill: #b3d1f0; } svg .release-rollback { fill: #c3ecd0; }
svg .burn { stroke: var(--bad); stroke-width: 2; }
svg .incident-open { fill: #ffc9c9; } svg .incident-closed { fill: #ffe3e3; }
svg circle.decision { stroke: #fff; stroke-width: 1.5; }
svg .action-rollback { fill: var(--rollback); } svg .action-recommend { fill: var(--recommend); } svg .action-escalate { fill: var(--escalate); }
svg .action-hold { fill: var(--hold); } svg .action-ignore { fill: var(--ignore); }
svg .rollback-succeeded, svg .rollback-validated { fill: var(--ok); } svg .rollback-failed { fill: var(--bad); }
svg .rollback-superseded { fill: var(--ignore); } svg .rollback-accepted, svg .rollback-started { fill: var(--flight); }
svg a:hover circle, svg a:hover rect { opacity: .8; }
svg .bar-bg { fill: #eef1f4; } svg .bar-value { fill: var(--accent); } svg .bar-weight { fill: #9aa5b1; }
svg .bar-threshold { stroke: var(--bad); stroke-width: 2; }
.legend { display: flex; flex-wrap: wrap; gap: 1rem; margin: .5rem 0; font-size: 12.5px; }
.legend .swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 50%; vertical-align: -1px; margin-right: .3rem; }
.swatch.action-rollback { background: var(--rollback); } .swatch.action-recommend { background: var(--recommend); }
.swatch.action-escalate { background: var(--escalate); } .swatch.action-hold { background: var(--hold); } .swatch.action-ignore { background: var(--ignore); }
.ranges a { margin-right: .6rem; } .ranges a.current { font-weight: 700; color: var(--ink); text-decoration: none; }
pre, code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: #0f1720; color: #e6edf3; padding: .7rem .9rem; border-radius: 6px; overflow-x: auto; }
pre.evidence { max-height: 32rem; }
.steps td.at, .steps td.offset { white-space: nowrap; } .steps tr.kind-deploy td { color: #34495e; }
.login { max-width: 26rem; margin: 3rem auto; }
.login label { display: block; font-weight: 600; margin-bottom: .3rem; }
.login input[type=password] { width: 100%; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 4px; font: inherit; }
.login button { margin-top: .8rem; padding: .45rem 1rem; background: var(--accent); color: #fff; border: 0; border-radius: 4px; font: inherit; cursor: pointer; }
.error { color: var(--bad); font-weight: 600; }
footer { max-width: 1180px; margin: 0 auto; padding: 0 1.5rem 2rem; color: var(--muted); font-size: 12px; }
`;

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#132235"/><path d="M3 11 L7 5 L10 9 L13 4" stroke="#ff922b" stroke-width="2" fill="none"/></svg>
`;
