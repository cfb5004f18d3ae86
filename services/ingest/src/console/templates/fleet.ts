/**
 * The fleet page and the service page (with its time axis, drawn as SVG here
 * from the geometry pure/timeline.ts computed). Eta templates; see layout.ts.
 */

/** What one service looks like now (a FleetRow): on the fleet page a table row, on the service page its head. */
export const NOW_FACTS = `<dl class="facts">
<dt>mode</dt><dd><span class="mode mode-<%= it.row.mode %>"><%= it.row.mode %></span>; rolls back <%= it.row.target %></dd>
<dt>serving</dt><dd><% if (it.row.serving) { %><strong><%= it.row.serving.releaseId %></strong><% if (it.row.serving.phase) { %> (<%= it.row.serving.phase %>)<% } %> <%= it.row.serving.sinceText %><% } else { %>unknown (no rollout on record)<% } %></dd>
<dt>pause</dt><dd><% if (it.row.pause) { %><span class="control">PAUSED</span> <%= it.row.pause.text %><% } else { %>not paused<% } %></dd>
<dt>freeze</dt><dd><% if (it.row.freeze) { %><span class="control">FROZEN</span> <%= it.row.freeze %><% } else { %>no freeze window in force<% } %></dd>
<dt>rollback in flight</dt><dd><% if (it.row.inFlight) { %><a href="<%= it.row.inFlight.href %>"><%= it.row.inFlight.rollbackId %></a> <%= it.row.inFlight.text %><% } else { %>none<% } %></dd>
<dt>last decision</dt><dd><% if (it.row.lastDecision) { %><span class="badge <%= 'action-' + it.row.lastDecision.action %>"><%= it.row.lastDecision.action %></span> <a href="<%= it.row.lastDecision.href %>"><%= it.row.lastDecision.when %></a>: <%= it.row.lastDecision.reason %><% } else { %>none yet<% } %></dd>
</dl>
`;

export const FLEET = `<h1>Fleet</h1>
<p class="sub">Every configured service; those that need a human (a failed rollback, an escalation or a recommendation to approve in the last <%= it.attentionHours %> h, a pause) first.</p>
<% if (it.rows.length === 0) { %><p class="card">No service is configured (the config's <code>services:</code> is empty).</p><% } else { %>
<table class="fleet">
<thead><tr><th>service</th><th>mode</th><th>serving</th><th>pause / freeze</th><th>rollback in flight</th><th>last decision</th></tr></thead>
<tbody>
<% for (const r of it.rows) { %>
<tr class="<%= r.needsHuman ? 'needs-human' : 'fine' %>" data-service="<%= r.name %>">
<td><a class="service" href="<%= r.href %>"><strong><%= r.name %></strong></a><div class="muted"><%= r.target %></div>
<% for (const a of r.attention) { %><div class="attention attention-<%= a.kind %>"><a href="<%= a.href %>"><%= a.text %></a></div><% } %></td>
<td><span class="mode mode-<%= r.mode %>"><%= r.mode %></span></td>
<td><% if (r.serving) { %><strong><%= r.serving.releaseId %></strong><% if (r.serving.phase) { %> (<%= r.serving.phase %>)<% } %><div class="muted"><%= r.serving.sinceText %></div><% } else { %><span class="muted">unknown</span><% } %></td>
<td><% if (r.pause) { %><div class="control">PAUSED</div><div class="muted"><%= r.pause.text %></div><% } %><% if (r.freeze) { %><div class="control">FROZEN</div><div class="muted"><%= r.freeze %></div><% } %><% if (!r.pause && !r.freeze) { %><span class="muted">none</span><% } %></td>
<td><% if (r.inFlight) { %><a href="<%= r.inFlight.href %>"><%= r.inFlight.rollbackId %></a><div class="muted"><%= r.inFlight.text %></div><% } else { %><span class="muted">none</span><% } %></td>
<td class="reason"><% if (r.lastDecision) { %><span class="badge <%= 'action-' + r.lastDecision.action %>"><%= r.lastDecision.action %></span> <a href="<%= r.lastDecision.href %>"><%= r.lastDecision.when %></a><div><%= r.lastDecision.reason %></div><% } else { %><span class="muted">none yet</span><% } %></td>
</tr>
<% } %>
</tbody>
</table>
<% } %>
`;

/** The time axis: lanes, ticks, then the marks of each lane; every mark has a <title> (its tooltip) and the dots and rollbacks link to their pages. */
export const TIMELINE = `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 <%= it.g.width %> <%= it.g.height %>" width="<%= it.g.width %>" height="<%= it.g.height %>" role="img" aria-labelledby="timeline-title">
<title id="timeline-title"><%= it.name %>: releases, incidents, decisions and rollbacks over <%= it.g.span %></title>
<% for (const l of it.g.lanes) { %><text class="lane-label" x="8" y="<%= l.y + 15 %>"><%= l.label %></text><line class="lane-line" x1="<%= it.g.left %>" x2="<%= it.g.right %>" y1="<%= l.y + l.height + 4 %>" y2="<%= l.y + l.height + 4 %>"/>
<% } %>
<% for (const t of it.g.ticks) { %><line class="tick" x1="<%= t.x %>" x2="<%= t.x %>" y1="4" y2="<%= it.g.axisY %>"/><text class="tick-label" x="<%= t.x %>" y="<%= it.g.axisY + 15 %>" text-anchor="middle"><%= t.label %></text>
<% } %>
<line class="axis" x1="<%= it.g.left %>" x2="<%= it.g.right %>" y1="<%= it.g.axisY %>" y2="<%= it.g.axisY %>"/>
<% for (const b of it.g.releases) { %><g class="mark-release"><rect class="<%= b.className %>" x="<%= b.x %>" y="<%= b.y %>" width="<%= b.width %>" height="<%= b.height %>" rx="3"><title><%= b.title %></title></rect><% if (b.showLabel) { %><text x="<%= b.x + 5 %>" y="<%= b.y + 16 %>"><%= b.label %></text><% } %></g>
<% } %>
<% for (const b of it.g.burns) { %><line class="burn" x1="<%= b.x %>" x2="<%= b.x %>" y1="<%= b.y %>" y2="<%= b.y + b.height %>"><title><%= b.title %></title></line>
<% } %>
<% for (const b of it.g.incidents) { %><g class="mark-incident"><rect class="<%= b.className %>" x="<%= b.x %>" y="<%= b.y %>" width="<%= b.width %>" height="<%= b.height %>" rx="3"><title><%= b.title %></title></rect><% if (b.showLabel) { %><text x="<%= b.x + 5 %>" y="<%= b.y + 16 %>"><%= b.label %></text><% } %></g>
<% } %>
<% for (const d of it.g.decisions) { %><a class="mark-decision" href="<%= d.href %>"><circle class="<%= d.className %>" cx="<%= d.x %>" cy="<%= d.y %>" r="6"><title><%= d.title %></title></circle></a>
<% } %>
<% for (const b of it.g.rollbacks) { %><a class="mark-rollback" href="<%= b.href %>"><rect class="<%= b.className %>" x="<%= b.x %>" y="<%= b.y %>" width="<%= b.width %>" height="<%= b.height %>" rx="2"><title><%= b.title %></title></rect><% if (b.showLabel) { %><text x="<%= b.x + 4 %>" y="<%= b.y + 10 %>"><%= b.label %></text><% } %></a>
<% } %>
<line class="now" x1="<%= it.g.right %>" x2="<%= it.g.right %>" y1="4" y2="<%= it.g.axisY %>"><title>now (to the next whole minute)</title></line>
</svg>
`;

export const SERVICE = `<h1><%= it.page.row.name %></h1>
<% for (const a of it.page.row.attention) { %><div class="attention attention-<%= a.kind %>"><a href="<%= a.href %>"><%= a.text %></a></div><% } %>
<div class="card"><%~ include('@now', { row: it.page.row }) %></div>
<h2>The last <%= it.page.hours %> h, on one axis</h2>
<p class="ranges muted">Look back: <% for (const r of it.page.ranges) { %><a class="<%= r.current ? 'current' : '' %>" href="<%= r.href %>"><%= r.label %></a><% } %> · the axis shows <%= it.page.timeline.span %> (UTC)</p>
<%~ include('@timeline', { g: it.page.timeline, name: it.page.row.name }) %>
<div class="legend"><% for (const l of it.page.legend) { %><span><span class="swatch <%= l.className %>"></span><%= l.action %>: <%= l.meaning %></span><% } %></div>
<h2>Decisions</h2>
<% if (it.page.decisions.length === 0) { %><p class="card">No decision in the last <%= it.page.hours %> h.</p><% } else { %>
<% if (it.page.truncated) { %><p class="muted">The newest <%= it.page.decisions.length %> decisions of the last <%= it.page.hours %> h; older ones are not shown.</p><% } %>
<table class="decisions">
<thead><tr><th>when</th><th>action</th><th>reason</th><th>confidence</th><th>blamed</th><th>rollback</th></tr></thead>
<tbody>
<% for (const d of it.page.decisions) { %>
<tr>
<td><a href="<%= d.href %>"><%= d.when %></a><div class="muted"><%= d.decidedAt %></div><div class="muted">incident <%= d.incidentId %></div></td>
<td><span class="badge <%= d.actionClass %>"><%= d.action %></span></td>
<td class="reason"><%= d.reason %></td>
<td><%= d.confidence %></td>
<td><%= d.cause %></td>
<td><% if (d.rollback) { %><a href="<%= d.rollback.href %>"><%= d.rollback.status %></a><% } else { %>—<% } %></td>
</tr>
<% } %>
</tbody>
</table>
<% } %>
`;
