import { timelineGeometry, type TimelineInput } from './timeline.js';

/**
 * One service's story drawn exactly: every bar, dot, label and title of the picture for an input that has each
 * case at once (a release clipped at the axis's start, one stopped before the next began, a long label that
 * fits and short bars whose labels do not, the burn mark, a closed and an open incident, two decisions at one
 * moment stacked in two rows, a finished rollback and an in-flight validation stacked apart). The figures were
 * checked by hand against the domain (rel-002's start, 40 min ago, less 8 % of that: 43 min 12 s over 848 px).
 */
const NOW = Date.parse('2026-12-06T10:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (offset: number) => new Date(NOW + offset).toISOString();

const input: TimelineInput = {
  now: NOW,
  hours: 6,
  spans: [
    { releaseId: 'rel-001', rollout: 'r1', from: iso(-48 * HOUR), stoppedAt: null, rollback: false, burnedAt: null },
    { releaseId: 'rel-002', rollout: 'r2', from: iso(-40 * MIN), stoppedAt: iso(-30 * MIN), rollback: false, burnedAt: iso(-35 * MIN) },
    { releaseId: 'rel-003-with-a-long-name', rollout: 'r3', from: iso(-30 * MIN), stoppedAt: null, rollback: false, burnedAt: null },
    { releaseId: 'rel-001', rollout: 'rb', from: iso(-4 * MIN), stoppedAt: null, rollback: true, burnedAt: null },
  ],
  incidents: [
    { incidentId: '0.old', startedAt: iso(-36 * MIN), endedAt: iso(-31 * MIN), burn: null },
    { incidentId: '0.burn', startedAt: iso(-5 * MIN), endedAt: null, burn: '2.5 % (bar 1 %)' },
  ],
  decisions: [
    { decisionId: 'dec-b', action: 'escalate', decidedAt: iso(-4.5 * MIN), reason: 'escalate: thin' },
    { decisionId: 'dec-a', action: 'rollback', decidedAt: iso(-4.5 * MIN), reason: 'roll back: burn' },
    { decisionId: 'dec-c', action: 'hold', decidedAt: iso(-34 * MIN), reason: 'hold: cooldown' },
  ],
  rollbacks: [
    {
      rollbackId: 'rb-1',
      orderedAt: iso(-4.5 * MIN),
      finishedAt: iso(-4 * MIN),
      status: 'succeeded',
      releaseId: 'rel-001',
      validateOnly: false,
    },
    { rollbackId: 'rb-2', orderedAt: iso(-4.4 * MIN), finishedAt: null, status: 'started', releaseId: null, validateOnly: true },
  ],
};

describe('the picture of one story, exactly', () => {
  it('draws every mark where the domain puts it, with its label, title, class and link', () => {
    expect(timelineGeometry(input)).toEqual({
      width: 960,
      height: 178,
      left: 96,
      right: 944,
      axisY: 156,
      start: 1796548608000,
      end: 1796551200000,
      span: 'the last 43 min 12 s',
      lanes: [
        {
          label: 'releases',
          y: 8,
          height: 24,
        },
        {
          label: 'incidents',
          y: 42,
          height: 24,
        },
        {
          label: 'decisions',
          y: 76,
          height: 42,
        },
        {
          label: 'rollbacks',
          y: 128,
          height: 28,
        },
      ],
      ticks: [
        {
          x: 158.8,
          label: '09:20',
        },
        {
          x: 355.1,
          label: '09:30',
        },
        {
          x: 551.4,
          label: '09:40',
        },
        {
          x: 747.7,
          label: '09:50',
        },
        {
          x: 944,
          label: '10:00',
        },
      ],
      releases: [
        {
          x: 96,
          width: 62.8,
          y: 8,
          height: 24,
          label: 'rel-001',
          showLabel: true,
          title: 'rel-001 served from 2026-12-04 10:00:00 UTC to 2026-12-06 09:20:00 UTC (1 d 23 h; rollout r1)',
          className: 'release release-even',
          href: null,
        },
        {
          x: 158.8,
          width: 196.3,
          y: 8,
          height: 24,
          label: 'rel-002',
          showLabel: true,
          title: 'rel-002 served from 2026-12-06 09:20:00 UTC to 2026-12-06 09:30:00 UTC (10 min; rollout r2)',
          className: 'release release-odd',
          href: null,
        },
        {
          x: 355.1,
          width: 510.4,
          y: 8,
          height: 24,
          label: 'rel-003-with-a-long-name',
          showLabel: true,
          title: 'rel-003-with-a-long-name served from 2026-12-06 09:30:00 UTC to 2026-12-06 09:56:00 UTC (26 min; rollout r3)',
          className: 'release release-even',
          href: null,
        },
        {
          x: 865.5,
          width: 78.5,
          y: 8,
          height: 24,
          label: 'rel-001',
          showLabel: true,
          title: 'rel-001 served from 2026-12-06 09:56:00 UTC until now (4 min; rollout rb)',
          className: 'release release-odd release-rollback',
          href: null,
        },
      ],
      burns: [
        {
          x: 257,
          y: 8,
          height: 24,
          title: 'a burn on rel-002 first seen at 2026-12-06 09:25:00 UTC',
        },
      ],
      incidents: [
        {
          x: 237.3,
          width: 98.2,
          y: 42,
          height: 24,
          label: '0.old',
          showLabel: true,
          title: 'incident 0.old; from 2026-12-06 09:24:00 UTC to 2026-12-06 09:29:00 UTC',
          className: 'incident incident-closed',
          href: null,
        },
        {
          x: 845.9,
          width: 98.1,
          y: 42,
          height: 24,
          label: '2.5 % (bar 1 %)',
          showLabel: false,
          title: 'incident 0.burn: 2.5 % (bar 1 %); from 2026-12-06 09:55:00 UTC, still open',
          className: 'incident incident-open',
          href: null,
        },
      ],
      decisions: [
        {
          x: 276.6,
          y: 83,
          className: 'decision action-hold',
          title: 'hold at 2026-12-06 09:26:00 UTC: hold: cooldown',
          href: '/console/decisions/dec-c',
        },
        {
          x: 855.7,
          y: 83,
          className: 'decision action-rollback',
          title: 'rollback at 2026-12-06 09:55:30 UTC: roll back: burn',
          href: '/console/decisions/dec-a',
        },
        {
          x: 855.7,
          y: 97,
          className: 'decision action-escalate',
          title: 'escalate at 2026-12-06 09:55:30 UTC: escalate: thin',
          href: '/console/decisions/dec-b',
        },
      ],
      rollbacks: [
        {
          x: 855.7,
          width: 9.8,
          y: 128,
          height: 12,
          label: 'rollback succeeded → rel-001',
          showLabel: false,
          title: 'rollback succeeded → rel-001: ordered 2026-12-06 09:55:30 UTC, finished 2026-12-06 09:56:00 UTC after 30 s',
          className: 'rollback rollback-succeeded',
          href: '/console/rollbacks/rb-1',
        },
        {
          x: 857.6,
          width: 86.4,
          y: 142,
          height: 12,
          label: 'validate started',
          showLabel: false,
          title: 'validate started: ordered 2026-12-06 09:55:36 UTC, in flight for 4 min',
          className: 'rollback rollback-started',
          href: '/console/rollbacks/rb-2',
        },
      ],
    });
  });
});
