/**
 * The console's pages as HTML: eta with autoEscape, so every value a template
 * prints with `<%= %>` is escaped (&, <, >, ", '); the templates are compiled
 * once, from the strings in templates/, when the module loads.
 */
import { Eta } from 'eta';
import type { DecisionPage } from '../pure/console/decision-view.js';
import type { FleetRow } from '../pure/console/fleet.js';
import type { RollbackPage } from '../pure/console/rollback-view.js';
import type { ServicePage } from '../pure/console/service-view.js';
import { DECISION, FACTS, ROLLBACK } from './templates/details.js';
import { FLEET, NOW_FACTS, SERVICE, TIMELINE } from './templates/fleet.js';
import { LAYOUT, LOGIN, PROBLEM } from './templates/layout.js';

const eta = new Eta({ autoEscape: true, cache: true, useWith: false });
const TEMPLATES: Record<string, string> = {
  '@layout': LAYOUT,
  '@login': LOGIN,
  '@problem': PROBLEM,
  '@fleet': FLEET,
  '@now': NOW_FACTS,
  '@timeline': TIMELINE,
  '@service': SERVICE,
  '@facts': FACTS,
  '@decision': DECISION,
  '@rollback': ROLLBACK,
};
for (const [name, template] of Object.entries(TEMPLATES)) eta.loadTemplate(name, template);

/** The frame around a page's body: the title, whether to offer logging out, and how often the page refreshes itself (seconds). */
export interface Frame {
  title: string;
  signedIn: boolean;
  refresh?: number;
}

function page(frame: Frame, template: string, data: object): string {
  const body = eta.render(template, data);
  return eta.render('@layout', { title: frame.title, signedIn: frame.signedIn, refresh: frame.refresh ?? 0, body });
}

export const renderLogin = (data: { next: string; problem: string | null; hours: number }) =>
  page({ title: 'Log in', signedIn: false }, '@login', data);

export const renderProblem = (status: number, heading: string, message: string, signedIn: boolean) =>
  page({ title: heading, signedIn }, '@problem', { status, heading, message });

export const renderFleet = (rows: FleetRow[], attentionHours: number) =>
  page({ title: 'Fleet', signedIn: true, refresh: 10 }, '@fleet', { rows, attentionHours });

export const renderService = (p: ServicePage) => page({ title: p.row.name, signedIn: true, refresh: 5 }, '@service', { page: p });

export const renderDecision = (p: DecisionPage) => page({ title: `${p.action} ${p.service}`, signedIn: true }, '@decision', { page: p });

export const renderRollback = (p: RollbackPage) =>
  page({ title: `rollback ${p.service}`, signedIn: true, ...(p.finished ? {} : { refresh: 5 }) }, '@rollback', { page: p });
