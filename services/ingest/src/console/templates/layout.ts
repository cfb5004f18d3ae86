/**
 * The frame every console page shares, the login form, and the page that says
 * why a request was refused or found nothing. Eta templates: `<%= %>` escapes
 * (autoEscape), `<%~ %>` only ever takes markup another template rendered.
 */

export const LAYOUT = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title><%= it.title %> · Burnback console</title>
<link rel="icon" href="/console/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/console/static/console.css">
<script src="/console/static/console.js" defer></script>
</head>
<body>
<header class="top">
<a class="brand" href="/console/">Burnback console</a>
<nav><% if (it.signedIn) { %><a href="/console/">Fleet</a><% } %></nav>
<span class="refresh" id="refresh-status"></span>
<% if (it.signedIn) { %><form method="post" action="/console/logout"><button type="submit">Log out</button></form><% } %>
</header>
<main id="main"<% if (it.refresh) { %> data-refresh="<%= it.refresh %>"<% } %>>
<%~ it.body %>
</main>
<footer>Read-only. Times are UTC. Every figure comes from the records the decider and the executor keep in Firestore.</footer>
</body>
</html>
`;

export const LOGIN = `<section class="login card">
<h1>Log in</h1>
<p class="sub">The console shows what Burnback decided and did, and changes nothing. It takes the management token
(<code>BURNBACK_MANAGEMENT_TOKEN</code>, the one the operator's routes take) once, and keeps you logged in
for <%= it.hours %> hours with a cookie only this console receives.</p>
<% if (it.problem) { %><p class="error" role="alert"><%= it.problem %></p><% } %>
<form method="post" action="/console/login">
<input type="hidden" name="next" value="<%= it.next %>">
<label for="token">Management token</label>
<input type="password" id="token" name="token" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form>
</section>
`;

export const PROBLEM = `<section class="card">
<h1><%= it.heading %></h1>
<p><%= it.message %></p>
<p class="muted">HTTP <%= it.status %>. <a href="/console/">Back to the fleet</a></p>
</section>
`;
