/**
 * The decision page and the rollback page. Eta templates; see layout.ts.
 */

/** Label/value rows (with an optional link) as a definition list. */
export const FACTS = `<dl class="facts"><% for (const r of it.rows) { %><dt><%= r.label %></dt><dd><% if (r.href) { %><a href="<%= r.href %>" rel="noreferrer"><%= r.value %></a><% } else { %><%= r.value %><% } %></dd><% } %></dl>
`;

export const DECISION = `<% const d = it.page %>
<h1><span class="badge <%= d.actionClass %>"><%= d.action %></span> <%= d.service %></h1>
<p class="sub">Decision <code><%= d.decisionId %></code>, <%= d.decidedAt %> (<%= d.decidedAgo %>): <%= d.actionMeaning %>.
Incident <code><%= d.incidentId %></code> (<%= d.incidentState %>) of <a href="<%= d.serviceHref %>"><%= d.service %></a>.</p>
<div class="card"><strong>Reason.</strong> <span class="reason" id="reason"><%= d.reason %></span>
<% if (d.rollback) { %><p>Rollback: <a id="rollback-link" href="<%= d.rollback.href %>"><%= d.rollback.rollbackId %></a></p><% } %>
<% if (d.approval) { %><p><strong>Awaiting approval:</strong> <%= d.approval %></p><% } %>
<% if (d.redecisionOf) { %><p>Decides again: <a href="<%= d.redecisionOf.href %>"><%= d.redecisionOf.decisionId %></a></p><% } %>
<% if (d.redecideAt) { %><p>To be decided again at <%= d.redecideAt.at %>, when <%= d.redecideAt.rule %> lapses: <%= d.redecideAt.detail %></p><% } %>
</div>
<h2>Verdicts, in the order the rules ran</h2>
<table class="verdicts">
<thead><tr><th>#</th><th>rule</th><th>outcome</th><th>what it read and found</th></tr></thead>
<tbody>
<% for (const v of d.verdicts) { %><tr class="<%= v.passed ? 'passed' : 'failed' %><%= v.decisive ? ' decisive' : '' %>"><td><%= v.position %></td><td><code><%= v.rule %></code></td><td class="mark"><%= v.mark %> <%= v.found %> <span class="muted">(<%= v.outcome %>)</span></td><td><%= v.detail %><% if (v.decisive) { %> <span class="muted">(the first that did not pass)</span><% } %></td></tr>
<% } %>
</tbody>
</table>
<h2>Confidence that the serving release caused the burn</h2>
<% if (d.confidence) { const c = d.confidence %>
<p><strong><%= c.value %></strong> against the bar <%= c.threshold %>: <%= c.meetsBar ? 'enough to blame the release' : 'not enough to blame the release' %>.</p>
<svg class="bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 360 18" width="360" height="18" role="img" aria-label="confidence <%= c.value %>, bar <%= c.threshold %>"><rect class="bar-bg" x="0" y="3" width="200" height="12"/><rect class="bar-value" x="0" y="3" width="<%= c.valueWidth %>" height="12"/><line class="bar-threshold" x1="<%= c.thresholdX %>" x2="<%= c.thresholdX %>" y1="0" y2="18"/><text x="210" y="14">confidence <%= c.value %> (bar <%= c.threshold %>)</text></svg>
<table class="factors">
<thead><tr><th>factor</th><th>value (blue) and weight (grey)</th><th>adds</th><th>why</th></tr></thead>
<tbody>
<% for (const f of c.factors) { %><tr><td><code><%= f.name %></code></td><td><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 330 30" width="330" height="30" role="img" aria-label="<%= f.name %>: value <%= f.value %>, weight <%= f.weight %>"><rect class="bar-bg" x="0" y="2" width="200" height="11"/><rect class="bar-value" x="0" y="2" width="<%= f.valueWidth %>" height="11"/><rect class="bar-bg" x="0" y="17" width="200" height="11"/><rect class="bar-weight" x="0" y="17" width="<%= f.weightWidth %>" height="11"/><text x="208" y="12">value <%= f.value %></text><text x="208" y="27">weight <%= f.weight %></text></svg></td><td><%= f.contribution %></td><td><%= f.detail %></td></tr>
<% } %>
</tbody>
</table>
<% } else { %><p class="card">No confidence: there was no burn to blame on a release.</p><% } %>
<h2>Blamed release</h2>
<p class="card"><% if (d.cause) { %><strong id="blamed"><%= d.cause.releaseId %></strong>, serving since <%= d.cause.servingSince %><% } else { %>None: no release could be blamed.<% } %></p>
<h2>Cloud Monitoring</h2>
<div class="card"><% if (d.monitoring) { %><p>SLO <code><%= d.monitoring.slo %></code>: <%= d.monitoring.status === 'read' ? 'read' : 'could not answer' %>.</p><%~ include('@facts', { rows: d.monitoring.rows }) %><% } else { %>Not asked (the service names no SLO, or there was nothing to confirm).<% } %></div>
<h2>The alert</h2>
<div class="card"><% if (d.alert) { %><%~ include('@facts', { rows: d.alert }) %><% } else { %>No evidence was recorded with this decision.<% } %></div>
<h2>Controls and fleet as read</h2>
<div class="card"><%~ include('@facts', { rows: d.fleet ? [...d.controls, ...d.fleet] : d.controls }) %></div>
<h2>Evidence</h2>
<% if (d.evidence) { %><div class="card"><%~ include('@facts', { rows: d.evidence.rows }) %></div>
<details><summary>Everything the decision read (JSON)</summary><pre class="evidence"><%= d.evidence.json %></pre></details>
<% } else { %><p class="card">Recorded before evidence was kept.</p><% } %>
<h2>Replay it</h2>
<p>Export this decision with everything it read, then run it through the decision engine again:</p>
<pre id="replay"><%= [d.replay.export, d.replay.replay].join('\\n') %></pre>
<h2>The incident's decisions</h2>
<ol class="incident-decisions"><% for (const x of d.incidentDecisions) { %><li><% if (x.current) { %><strong><%= x.decisionId %></strong> (this one)<% } else { %><a href="<%= x.href %>"><%= x.decisionId %></a><% } %></li><% } %></ol>
`;

export const ROLLBACK = `<% const r = it.page %>
<h1><span class="badge <%= r.statusClass %>"><%= r.status %></span> <%= r.validateOnly ? 'Validation' : 'Rollback' %> of <a href="<%= r.serviceHref %>"><%= r.service %></a></h1>
<p class="sub">Rollback <code><%= r.rollbackId %></code> of incident <code><%= r.incidentId %></code>, ordered by decision <% if (r.decision) { %><a id="decision-link" href="<%= r.decision.href %>"><%= r.decision.decisionId %></a><% } else { %><code><%= r.decisionId %></code> (not found)<% } %>.</p>
<div class="card"><dl class="facts">
<dt>target</dt><dd><code><%= r.target %></code></dd>
<dt>releases</dt><dd><%= r.from ?? 'unknown' %> → <strong><%= r.to ?? 'not chosen yet' %></strong></dd>
<dt>rollout</dt><dd><% if (r.rollout.name) { %><code><%= r.rollout.name %></code> <%= r.rollout.state ?? '' %><% } else { %>not created yet<% } %><% if (r.rollout.rollsBack) { %><div class="muted">rolls back <code><%= r.rollout.rollsBack %></code></div><% } %></dd>
<% if (r.requestedBy) { %><dt>asked by</dt><dd><%= r.requestedBy %></dd><% } %>
<% if (r.failureReason) { %><dt>why it <%= r.status === 'superseded' ? 'was superseded' : 'failed' %></dt><dd class="error"><%= r.failureReason %><% if (r.supersededBy) { %> (by a <%= r.supersededBy %>)<% } %></dd><% } %>
<% for (const x of r.durations) { %><dt><%= x.label %></dt><dd><%= x.value %></dd><% } %>
<% if (r.decision) { %><dt>why</dt><dd><span class="badge <%= r.decision.actionClass %>"><%= r.decision.action %></span> <%= r.decision.reason %></dd><% } %>
</dl></div>
<h2>Timeline</h2>
<table class="steps">
<thead><tr><th>when</th><th></th><th>step</th><th>detail</th></tr></thead>
<tbody>
<% for (const s of r.steps) { %><tr class="kind-<%= s.kind %>"><td class="at"><%= s.at %></td><td class="muted offset"><%= s.offset %></td><td><% if (s.href) { %><a href="<%= s.href %>"><%= s.stage %></a><% } else { %><%= s.stage %><% } %></td><td><%= s.detail %></td></tr>
<% } %>
</tbody>
</table>
<h2>Cloud Deploy phases</h2>
<% if (r.phases.length) { %><table class="phases"><thead><tr><th>phase</th><th>state</th><th>deploy job</th></tr></thead><tbody>
<% for (const p of r.phases) { %><tr><td><%= p.id %></td><td><%= p.state %></td><td><%= p.deployJobState || '—' %></td></tr><% } %>
</tbody></table><p class="muted">As the decider last read the rollout from Cloud Deploy.</p>
<% } else { %><p class="card">The decider has not read this rollout's phases from Cloud Deploy (yet).</p><% } %>
<h2>Audit trail</h2>
<table class="audit"><thead><tr><th>when</th><th>stage</th><th>detail</th></tr></thead><tbody>
<% for (const a of r.audit) { %><tr><td class="at"><%= a.at %></td><td><%= a.stage %></td><td><%= a.detail %></td></tr><% } %>
</tbody></table>
`;
