import fc from 'fast-check';
import type { NotifyTopic } from '@burnback/contracts';
import { decisionNotice, rollbackNotice } from '../../test/fixtures.js';
import { chatText, commandsOf, confidenceOf, detailsOf, releasesOf, targetOf, titleOf } from './messages.js';
import type { Notice } from './notices.js';

const escalation = decisionNotice();
const recommendation = decisionNotice({
  action: 'recommend',
  decisionId: 'dec-3',
  rollbackId: 'rb-2',
  reason: 'recommend: roll back rel-005',
});
/** A hold with nothing to blame: no target, no cause, no confidence. */
const bareHold = decisionNotice({ action: 'hold', target: null, cause: null, confidence: null, reason: 'hold: cooldown' });
const succeeded = rollbackNotice('succeeded');

describe('titleOf', () => {
  it.each([
    ['escalate', 'Burnback: api-backend needs a human'],
    ['recommend', 'Burnback: api-backend recommends a rollback'],
    ['rollback', 'Burnback: api-backend is rolling back'],
    ['hold', 'Burnback: api-backend holds'],
    ['close', 'Burnback: api-backend incident closed'],
    ['rollback-started', 'Burnback: api-backend rollback started'],
    ['rollback-succeeded', 'Burnback: api-backend rolled back'],
    ['rollback-failed', 'Burnback: api-backend rollback FAILED'],
    ['rollback-superseded', 'Burnback: api-backend rollback superseded'],
  ] as const)('a %s notice is titled "%s"', (topic: NotifyTopic, title) => {
    expect(titleOf({ ...escalation, topic })).toBe(title);
  });

  it("names the notice's service", () => {
    expect(titleOf(decisionNotice({ service: 'checkout' }))).toBe('Burnback: checkout needs a human');
  });
});

describe('targetOf', () => {
  it("a decision's target is project/region/pipeline/target", () => {
    expect(targetOf(escalation)).toBe('burnback-local/us-central1/api-backend-pipeline/production');
    expect(targetOf(decisionNotice({ target: { project: 'p', region: 'r', pipeline: 'pl', target: 't' } }))).toBe('p/r/pl/t');
  });

  it('a decision that names no target has none', () => {
    expect(targetOf(bareHold)).toBeNull();
  });

  it("a rollback's target is the progress's own", () => {
    expect(targetOf(rollbackNotice('started', { target: 'staging' }))).toBe('staging');
  });
});

describe('releasesOf', () => {
  it('a decision names the release it blames, or none', () => {
    expect(releasesOf(escalation)).toBe('blamed rel-005');
    expect(releasesOf(bareHold)).toBeNull();
  });

  it.each([
    ['rel-005', 'rel-004', 'rel-005 → rel-004'],
    [null, 'rel-004', 'to rel-004'],
    [undefined, 'rel-004', 'to rel-004'],
    ['rel-005', null, 'leaving rel-005'],
    [undefined, null, null],
    [null, null, null],
    ['', '', null],
  ] as const)('a rollback from %s to %s reads %s', (fromReleaseId, releaseId, text) => {
    expect(releasesOf(rollbackNotice('started', { fromReleaseId, releaseId }))).toBe(text);
  });
});

describe('confidenceOf', () => {
  it('the value, the bar and each factor as value×weight, to two decimals', () => {
    expect(confidenceOf(escalation)).toBe('0.62 (needs 0.80): burn 1.00×0.50, timing 0.20×0.30');
  });

  it('a confidence of no factors is the value and the bar alone', () => {
    expect(confidenceOf(decisionNotice({ confidence: { value: 0.9, threshold: 0.75, factors: [] } }))).toBe('0.90 (needs 0.75)');
  });

  it('a single factor has no separator', () => {
    const confidence = { value: 1, threshold: 0, factors: [{ name: 'monitoring' as const, value: 0.333, weight: 1, detail: 'x' }] };
    expect(confidenceOf(decisionNotice({ confidence }))).toBe('1.00 (needs 0.00): monitoring 0.33×1.00');
  });

  it('a decision that weighed nothing, and a rollback, have none', () => {
    expect(confidenceOf(bareHold)).toBeNull();
    expect(confidenceOf(succeeded)).toBeNull();
  });
});

describe('commandsOf', () => {
  it('always the decisions of the service', () => {
    expect(commandsOf(escalation)).toEqual(['burnback decisions --service api-backend']);
    expect(commandsOf(decisionNotice({ service: 'checkout' }))).toEqual(['burnback decisions --service checkout']);
  });

  it('the status too when there is a rollback', () => {
    expect(commandsOf(succeeded)).toEqual(['burnback decisions --service api-backend', 'burnback status']);
    expect(commandsOf(decisionNotice({ action: 'rollback', rollbackId: 'rb-1' }))).toEqual([
      'burnback decisions --service api-backend',
      'burnback status',
    ]);
  });

  it('a recommendation adds the command that approves it', () => {
    expect(commandsOf(recommendation)).toEqual([
      'burnback decisions --service api-backend',
      'burnback status',
      'burnback approve dec-3 --reason "…"',
    ]);
    expect(commandsOf(decisionNotice({ action: 'recommend', decisionId: 'dec-4' }))).toEqual([
      'burnback decisions --service api-backend',
      'burnback approve dec-4 --reason "…"',
    ]);
  });

  it('the close of an incident a recommendation was for is not approvable', () => {
    expect(commandsOf(decisionNotice({ action: 'recommend', incidentState: 'closed' }))).toEqual([
      'burnback decisions --service api-backend',
    ]);
  });
});

describe('detailsOf', () => {
  it('a decision: service, target, releases, confidence, incident, decision, at, in that order', () => {
    expect(detailsOf(escalation)).toEqual([
      ['service', 'api-backend'],
      ['target', 'burnback-local/us-central1/api-backend-pipeline/production'],
      ['releases', 'blamed rel-005'],
      ['confidence', '0.62 (needs 0.80): burn 1.00×0.50, timing 0.20×0.30'],
      ['incident', '0.burn-1'],
      ['decision', 'dec-1'],
      ['at', '2026-12-06T10:00:00.000Z'],
    ]);
  });

  it('leaves out the lines a decision has nothing for', () => {
    expect(detailsOf(bareHold)).toEqual([
      ['service', 'api-backend'],
      ['incident', '0.burn-1'],
      ['decision', 'dec-1'],
      ['at', '2026-12-06T10:00:00.000Z'],
    ]);
  });

  it('a rollback names the rollback where a decision names the decision', () => {
    expect(detailsOf(succeeded)).toEqual([
      ['service', 'api-backend'],
      ['target', 'production'],
      ['releases', 'rel-005 → rel-004'],
      ['incident', '0.burn-1'],
      ['rollback', 'rb-1'],
      ['at', '2026-12-06T10:01:00.000Z'],
    ]);
    expect(detailsOf(rollbackNotice('failed', { releaseId: null, fromReleaseId: null }))).toEqual([
      ['service', 'api-backend'],
      ['target', 'production'],
      ['incident', '0.burn-1'],
      ['rollback', 'rb-1'],
      ['at', '2026-12-06T10:01:00.000Z'],
    ]);
  });
});

describe('chatText', () => {
  it('an escalation: the reason in bold, the title, the details, then where to look closer', () => {
    expect(chatText(escalation).split('\n')).toEqual([
      '*escalate: confidence 0.62 is below 0.80*',
      'Burnback: api-backend needs a human',
      'service: api-backend',
      'target: burnback-local/us-central1/api-backend-pipeline/production',
      'releases: blamed rel-005',
      'confidence: 0.62 (needs 0.80): burn 1.00×0.50, timing 0.20×0.30',
      'incident: 0.burn-1',
      'decision: dec-1',
      'at: 2026-12-06T10:00:00.000Z',
      'look closer: `burnback decisions --service api-backend`',
    ]);
  });

  it('a recommendation ends with the command that approves it', () => {
    expect(chatText(recommendation)).toBe(
      [
        '*recommend: roll back rel-005*',
        'Burnback: api-backend recommends a rollback',
        'service: api-backend',
        'target: burnback-local/us-central1/api-backend-pipeline/production',
        'releases: blamed rel-005',
        'confidence: 0.62 (needs 0.80): burn 1.00×0.50, timing 0.20×0.30',
        'incident: 0.burn-1',
        'decision: dec-3',
        'at: 2026-12-06T10:00:00.000Z',
        'look closer: `burnback decisions --service api-backend`',
        'look closer: `burnback status`',
        'approve: `burnback approve dec-3 --reason "…"`',
      ].join('\n'),
    );
  });

  it("a rollback's outcome, with nothing it does not know", () => {
    expect(chatText(succeeded)).toBe(
      [
        '*rollback succeeded*',
        'Burnback: api-backend rolled back',
        'service: api-backend',
        'target: production',
        'releases: rel-005 → rel-004',
        'incident: 0.burn-1',
        'rollback: rb-1',
        'at: 2026-12-06T10:01:00.000Z',
        'look closer: `burnback decisions --service api-backend`',
        'look closer: `burnback status`',
      ].join('\n'),
    );
    expect(chatText(bareHold)).toBe(
      [
        '*hold: cooldown*',
        'Burnback: api-backend holds',
        'service: api-backend',
        'incident: 0.burn-1',
        'decision: dec-1',
        'at: 2026-12-06T10:00:00.000Z',
        'look closer: `burnback decisions --service api-backend`',
      ].join('\n'),
    );
  });

  it("writes commands in the destination's code markup", () => {
    expect(
      chatText(recommendation, (t) => `<${t}>`)
        .split('\n')
        .slice(-3),
    ).toEqual([
      'look closer: <burnback decisions --service api-backend>',
      'look closer: <burnback status>',
      'approve: <burnback approve dec-3 --reason "…">',
    ]);
  });

  it('always opens with the reason in bold, then the title', () => {
    const notices: Notice[] = [
      escalation,
      recommendation,
      bareHold,
      succeeded,
      rollbackNotice('started'),
      decisionNotice({ incidentState: 'closed' }),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...notices),
        fc.string({ unit: 'grapheme' }).filter((r) => !/[\r\n\u2028\u2029]/.test(r)),
        (notice, reason) => {
          const lines = chatText({ ...notice, reason }).split('\n');
          expect(lines[0]).toBe(`*${reason}*`);
          expect(lines[1]).toBe(titleOf(notice));
          expect(lines).toHaveLength(2 + detailsOf(notice).length + commandsOf(notice).length);
        },
      ),
    );
  });
});

describe('chatText of a reason on several lines', () => {
  it('keeps the bold reason on the first line, its lines joined by spaces', () => {
    const text = chatText(decisionNotice({ reason: 'rollback failed:\n  Cloud Deploy said no\nretry later' })).split('\n');
    expect(text[0]).toBe('*rollback failed: Cloud Deploy said no retry later*');
    expect(text[1]).toBe('Burnback: api-backend needs a human');
  });
});

describe('chatText of a recommendation', () => {
  it('says how to approve it and until when', () => {
    const text = chatText(decisionNotice({ action: 'recommend', decisionId: 'dec-9', approvableUntil: '2026-12-06T10:30:00.000Z' })).split(
      '\n',
    );
    expect(text.at(-1)).toBe(
      'approve: `burnback approve dec-9 --reason "…"` before 2026-12-06T10:30:00.000Z (or POST /decisions/dec-9/approve with the management token)',
    );
  });
  it('without a time limit from the decider, gives the command alone', () => {
    const text = chatText(decisionNotice({ action: 'recommend', decisionId: 'dec-9', approvableUntil: null })).split('\n');
    expect(text.at(-1)).toBe('approve: `burnback approve dec-9 --reason "…"`');
  });
});
