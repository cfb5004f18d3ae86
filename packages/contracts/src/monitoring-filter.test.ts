import fc from 'fast-check';
import { MAX_FILTER_LENGTH, parseFilter } from './index.js';

describe('parseFilter: what a Cloud Monitoring filter selects', () => {
  it("reads a Cloud Run 5xx condition's comparisons, joined by AND", () => {
    const parsed = parseFilter(
      'resource.type = "cloud_run_revision" AND metric.type = "run.googleapis.com/request_count" AND metric.labels.response_code_class = "5xx"',
    );
    expect(parsed).toEqual({
      comparisons: [
        { selector: 'resource.type', operator: '=', value: { kind: 'string', text: 'cloud_run_revision' } },
        { selector: 'metric.type', operator: '=', value: { kind: 'string', text: 'run.googleapis.com/request_count' } },
        { selector: 'metric.label.response_code_class', operator: '=', value: { kind: 'string', text: '5xx' } },
      ],
      calls: [],
      conjunctive: true,
    });
  });

  it('normalises label selectors: labels., label. and a quoted last segment name the same label', () => {
    for (const f of ['metric.labels.response_code >= 500', 'metric.label.response_code>=500', 'metric.label."response_code" >= 500']) {
      expect(parseFilter(f)?.comparisons).toEqual([
        { selector: 'metric.label.response_code', operator: '>=', value: { kind: 'number', value: 500, text: '500' } },
      ]);
    }
    expect(parseFilter('resource.labels.service_name = "api"')?.comparisons[0]?.selector).toBe('resource.label.service_name');
    expect(parseFilter('metadata.user_labels.team = "a"')?.comparisons[0]?.selector).toBe('metadata.user_label.team');
  });

  it('reads every operator, numbers with a sign, words as strings, and functions with their arguments', () => {
    const parsed = parseFilter(
      'a = 1 b != "x" c > -1.5 d >= 2e3 e < 3 f <= 4 g : "h" k = one_of("4xx", "5xx") m = starts_with("run") n = cloud_run_revision',
    );
    expect(parsed?.comparisons.map((c) => [c.selector, c.operator, c.value])).toEqual([
      ['a', '=', { kind: 'number', value: 1, text: '1' }],
      ['b', '!=', { kind: 'string', text: 'x' }],
      ['c', '>', { kind: 'number', value: -1.5, text: '-1.5' }],
      ['d', '>=', { kind: 'number', value: 2000, text: '2e3' }],
      ['e', '<', { kind: 'number', value: 3, text: '3' }],
      ['f', '<=', { kind: 'number', value: 4, text: '4' }],
      ['g', ':', { kind: 'string', text: 'h' }],
      ['k', '=', { kind: 'function', name: 'one_of', args: ['4xx', '5xx'] }],
      ['m', '=', { kind: 'function', name: 'starts_with', args: ['run'] }],
      ['n', '=', { kind: 'string', text: 'cloud_run_revision' }],
    ]);
    expect(parsed?.conjunctive).toBe(true);
  });

  it('keeps escaped quotes inside a string', () => {
    expect(parseFilter('metric.labels.path = "a\\"b\\\\c"')?.comparisons[0]?.value).toEqual({ kind: 'string', text: 'a"b\\c' });
  });

  it('reads a bare call such as select_slo_burn_rate, with its arguments', () => {
    expect(parseFilter('select_slo_burn_rate("projects/p/services/s/serviceLevelObjectives/o", "3600s")')).toEqual({
      comparisons: [],
      calls: [{ name: 'select_slo_burn_rate', args: ['projects/p/services/s/serviceLevelObjectives/o', '3600s'] }],
      conjunctive: true,
    });
    expect(parseFilter('f()')?.calls).toEqual([{ name: 'f', args: [] }]);
  });

  it('says when terms are not all joined by AND: OR, NOT, or a leading minus', () => {
    expect(parseFilter('a = 1 AND b = 2')?.conjunctive).toBe(true);
    expect(parseFilter('a = 1 b = 2')?.conjunctive).toBe(true);
    expect(parseFilter('(a = 1) AND (b = 2)')?.conjunctive).toBe(true);
    expect(parseFilter('a = 1 OR b = 2')?.conjunctive).toBe(false);
    expect(parseFilter('NOT a = 1')?.conjunctive).toBe(false);
    expect(parseFilter('-a = 1')?.conjunctive).toBe(false);
    expect(parseFilter('b = 2 -a = 1')?.conjunctive).toBe(false);
  });

  it('separates terms by any whitespace: spaces, tabs, newlines and carriage returns', () => {
    expect(parseFilter('a\t=\t1\nAND\r\nb\r=\n"x"')).toEqual({
      comparisons: [
        { selector: 'a', operator: '=', value: { kind: 'number', value: 1, text: '1' } },
        { selector: 'b', operator: '=', value: { kind: 'string', text: 'x' } },
      ],
      calls: [],
      conjunctive: true,
    });
  });

  it('reads unquoted words made of letters, digits, _ . / + and inner hyphens', () => {
    expect(parseFilter('aAzZ09 = metric.googleapis.com/x_y')?.comparisons).toEqual([
      { selector: 'aAzZ09', operator: '=', value: { kind: 'string', text: 'metric.googleapis.com/x_y' } },
    ]);
    expect(parseFilter('resource.label.location = us-central1')?.comparisons).toEqual([
      { selector: 'resource.label.location', operator: '=', value: { kind: 'string', text: 'us-central1' } },
    ]);
    expect(parseFilter('a > +1')?.comparisons).toEqual([{ selector: 'a', operator: '>', value: { kind: 'number', value: 1, text: '+1' } }]);
  });

  it('reads unquoted words as function arguments', () => {
    expect(parseFilter('metric.labels.response_code_class = one_of(4xx, 5xx)')?.comparisons).toEqual([
      { selector: 'metric.label.response_code_class', operator: '=', value: { kind: 'function', name: 'one_of', args: ['4xx', '5xx'] } },
    ]);
  });

  it('normalises only a leading labels prefix, not one inside a quoted label name', () => {
    expect(parseFilter('metric.label."resource.labels.x" = "a"')?.comparisons[0]?.selector).toBe('metric.label.resource.labels.x');
    expect(parseFilter('metric.label."metadata.user_labels.x" = "a"')?.comparisons[0]?.selector).toBe(
      'metric.label.metadata.user_labels.x',
    );
  });

  it.each([
    ['an unterminated string', 'metric.type = "run.googleapis.com/request_count'],
    ['a string ending in a backslash', 'a = "b\\'],
    ['a stray character', 'a = 1 # b'],
    ['a lone !', 'a ! 1'],
    ['an unclosed parenthesis', '(a = 1'],
    ['a closing parenthesis too many', 'a = 1)'],
    ['a comparison without a value', 'a ='],
    ['a selector without an operator', 'a b'],
    ['an operator without a selector', '= 1'],
    ['a value that is a parenthesis', 'a = )'],
    ['an unclosed call', 'a = one_of("x"'],
    ['a call whose arguments are not values', 'a = one_of(=)'],
    ['arguments without a comma', 'a = one_of("x" "y")'],
    ['an unclosed bare call', 'f("x"'],
    ['a call left open after its parenthesis', 'a = one_of('],
    ['a call left open after a comma', 'a = one_of("x",'],
    ['a bare call left open after its parenthesis', 'f('],
    ['a closing parenthesis before its opening one', 'a = 1) AND (b = 2'],
    ['a quoted segment after a selector that does not end in a dot', 'metric.label"x" = 1'],
    ['a value that is a parenthesised term', 'a = (b = 1)'],
    ['a stray character as a value', 'a = #'],
    ...['#', '*', ';', '@', '[', '`', '{', '~', 'é'].map((c): [string, string] => [`a stray ${c} inside a word`, `a = x${c}`]),
  ])('refuses %s (nothing can be concluded from it)', (_what, filter) => {
    expect(parseFilter(filter)).toBeNull();
  });

  it('does not read a filter longer than MAX_FILTER_LENGTH', () => {
    const term = 'a = 1 ';
    const atLimit = term.repeat(Math.floor(MAX_FILTER_LENGTH / term.length));
    expect(parseFilter(atLimit)).not.toBeNull();
    expect(parseFilter(atLimit + ' '.repeat(MAX_FILTER_LENGTH - atLimit.length))).not.toBeNull();
    expect(parseFilter(atLimit + ' '.repeat(MAX_FILTER_LENGTH - atLimit.length + 1))).toBeNull();
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ab.=!<>:"\\()-, 5ORANDNOT_'.split('')), maxLength: 60 }), (text) => {
        const parsed = parseFilter(text);
        expect(parsed === null || Array.isArray(parsed.comparisons)).toBe(true);
      }),
    );
  });

  it('reads back any AND of comparisons it is given', () => {
    const selector = fc.constantFrom('metric.type', 'resource.type', 'metric.label.response_code', 'resource.label.location');
    const operator = fc.constantFrom('=', '!=', '>', '>=', '<', '<=', ':');
    const text = fc.string({ unit: fc.constantFrom(...'az09_-./"\\ '.split('')), maxLength: 12 });
    fc.assert(
      fc.property(fc.array(fc.tuple(selector, operator, text), { minLength: 1, maxLength: 6 }), (terms) => {
        const filter = terms.map(([s, o, t]) => `${s} ${o} ${JSON.stringify(t)}`).join(' AND ');
        expect(parseFilter(filter)).toEqual({
          comparisons: terms.map(([s, o, t]) => ({ selector: s, operator: o, value: { kind: 'string', text: t } })),
          calls: [],
          conjunctive: true,
        });
      }),
    );
  });
});
