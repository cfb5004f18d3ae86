import {
  DEFAULT_BAD_REQUESTS,
  describeComparison,
  errorRatioRefusal,
  parseBadRequestPredicate,
  parseFilter,
  type BadRequestPredicate,
} from './index.js';

const predicate = (text: string): BadRequestPredicate => {
  const p = parseBadRequestPredicate(text);
  if ('error' in p) throw new Error(p.error);
  return p;
};
const RUN = predicate('metric.labels.response_code_class = "5xx"');
const CODE = predicate('metric.labels.response_code >= 500');
const RUN_TOTAL = 'metric.type = "run.googleapis.com/request_count" AND resource.type = "cloud_run_revision"';
const runRatio = (selects: string) => `${RUN_TOTAL} AND ${selects}`;

describe('bad-request predicates', () => {
  it('reads the forms a config writes', () => {
    expect(parseBadRequestPredicate('metric.labels.response_code_class = "5xx"')).toEqual({
      label: 'metric.label.response_code_class',
      kind: 'equals',
      values: ['5xx'],
      text: 'metric.labels.response_code_class = "5xx"',
    });
    expect(parseBadRequestPredicate('metric.label.response_code_class = 500')).toMatchObject({ kind: 'equals', values: ['500'] });
    expect(parseBadRequestPredicate('metric.labels.code = one_of("500", "503")')).toMatchObject({ kind: 'equals', values: ['500', '503'] });
    expect(parseBadRequestPredicate('metric.labels.response_code >= 500')).toMatchObject({ kind: 'atLeast', min: 500 });
    expect(parseBadRequestPredicate('metric.labels.response_code > 499')).toMatchObject({ kind: 'atLeast', min: 500 });
  });

  it.each([
    ['not a filter', 'response_code_class ='],
    ['two comparisons', 'metric.labels.a = "1" AND metric.labels.b = "2"'],
    ['an OR', 'metric.labels.a = "1" OR metric.labels.a = "2"'],
    ['a bare call', 'select_slo_health("x")'],
    ['a resource label', 'resource.labels.location = "us"'],
    ['another operator', 'metric.labels.response_code < 500'],
    ['a comparison with a non-number', 'metric.labels.response_code >= "high"'],
    ['another function', 'metric.labels.a = starts_with("5")'],
    ['an empty one_of', 'metric.labels.a = one_of()'],
    ['a function with >=', 'metric.labels.a >= one_of("1")'],
  ])('refuses %s, saying what it expects', (_what, text) => {
    const p = parseBadRequestPredicate(text);
    expect(p).toEqual({ error: expect.stringContaining('expected one comparison on a metric label') });
  });

  it('names the label when the comparison is not on a metric label', () => {
    expect(parseBadRequestPredicate('resource.labels.location = "us"')).toEqual({
      error: expect.stringContaining('(not a metric label: resource.label.location)'),
    });
  });

  it('ships a predicate for Cloud Run, App Engine, Istio and the load balancer, each readable', () => {
    expect([...DEFAULT_BAD_REQUESTS.keys()]).toEqual([
      'run.googleapis.com/request_count',
      'appengine.googleapis.com/http/server/response_count',
      'istio.io/service/server/request_count',
      'loadbalancing.googleapis.com/https/request_count',
    ]);
    for (const text of DEFAULT_BAD_REQUESTS.values()) expect(parseBadRequestPredicate(text)).not.toHaveProperty('error');
  });

  it('describes a comparison as a filter writes it', () => {
    const [a, b, c] = parseFilter('metric.label.x = "5xx" metric.label.y >= 500 metric.label.z = one_of("a", "b")')!.comparisons;
    expect([a, b, c].map((x) => describeComparison(x!))).toEqual([
      'metric.label.x = "5xx"',
      'metric.label.y >= 500',
      'metric.label.z = one_of("a", "b")',
    ]);
  });
});

describe('errorRatioRefusal: only a ratio of bad requests to all of them is an error ratio', () => {
  it.each([
    ['5xx', runRatio('metric.labels.response_code_class = "5xx"')],
    ['5xx through one_of', runRatio('metric.labels.response_code_class = one_of("5xx")')],
    ['5xx of one revision', runRatio('metric.labels.response_code_class = "5xx" AND resource.labels.revision_name = "r1"')],
  ])('a numerator that selects only bad requests (%s) is an error ratio', (_what, numerator) => {
    expect(errorRatioRefusal(numerator, RUN_TOTAL, RUN, 'bad')).toBeNull();
  });

  it('a 4xx share is not: the reason names what the numerator selects', () => {
    expect(errorRatioRefusal(runRatio('metric.labels.response_code_class = "4xx"'), RUN_TOTAL, RUN, 'bad')).toBe(
      'its numerator selects metric.label.response_code_class = "4xx": not only the bad requests (metric.labels.response_code_class = "5xx")',
    );
  });

  it('a share that mixes 4xx and 5xx, or excludes only 2xx, is not', () => {
    expect(errorRatioRefusal(runRatio('metric.labels.response_code_class = one_of("4xx", "5xx")'), RUN_TOTAL, RUN, 'bad')).toContain(
      'not only the bad requests',
    );
    expect(errorRatioRefusal(runRatio('metric.labels.response_code_class != "2xx"'), RUN_TOTAL, RUN, 'bad')).toContain(
      'not only the bad requests',
    );
    expect(errorRatioRefusal(runRatio('metric.labels.response_code_class = starts_with("5")'), RUN_TOTAL, RUN, 'bad')).toContain(
      'not only the bad requests',
    );
  });

  it("a canary's traffic share (nothing said of the response) is not", () => {
    expect(errorRatioRefusal(runRatio('resource.labels.revision_name = "canary"'), RUN_TOTAL, RUN, 'bad')).toBe(
      'its numerator says nothing of metric.label.response_code_class: not only the bad requests (metric.labels.response_code_class = "5xx")',
    );
  });

  it.each([
    ['>= 500', true],
    ['>= 501', true],
    ['> 499', true],
    ['= 503', true],
    ['= "503"', true],
    ['= one_of("500", "503")', true],
    ['>= 400', false],
    ['> 498', false],
    ['= 404', false],
    ['= one_of("404", "500")', false],
    ['< 600', false],
    ['<= 599', false],
    ['= "5xx"', false],
  ])('a numeric response code: response_code %s selects only bad requests: %s', (selects, ok) => {
    const refusal = errorRatioRefusal(`metric.labels.response_code ${selects}`, 'metric.type = "x"', CODE, 'bad');
    expect(refusal === null).toBe(ok);
  });

  it('a range (>= 500 AND < 600) selects only bad requests: one term of an AND that does is enough', () => {
    expect(errorRatioRefusal('metric.labels.response_code >= 500 AND metric.labels.response_code < 600', '', CODE, 'bad')).toBeNull();
  });

  it('a denominator that selects some responses only is not every request', () => {
    expect(
      errorRatioRefusal(
        runRatio('metric.labels.response_code_class = "5xx"'),
        runRatio('metric.labels.response_code_class != "1xx"'),
        RUN,
        'bad',
      ),
    ).toBe('its denominator selects metric.label.response_code_class != "1xx": not every request');
  });

  it('a filter with OR or NOT, or that cannot be read, proves nothing', () => {
    expect(
      errorRatioRefusal('metric.labels.response_code_class = "5xx" OR metric.labels.response_code_class = "4xx"', RUN_TOTAL, RUN, 'bad'),
    ).toBe(
      'its numerator filter joins terms with OR or NOT, so whether it selects bad requests (metric.labels.response_code_class = "5xx") is unknown',
    );
    expect(errorRatioRefusal(runRatio('metric.labels.response_code_class = "5xx"'), 'NOT metric.type = "x"', RUN, 'bad')).toContain(
      'its denominator filter joins terms with OR or NOT',
    );
    expect(errorRatioRefusal('metric.labels.response_code_class = "5xx', RUN_TOTAL, RUN, 'bad')).toBe(
      'its numerator filter cannot be read, so whether it selects bad requests (metric.labels.response_code_class = "5xx") is unknown',
    );
    expect(errorRatioRefusal(runRatio('metric.labels.response_code_class = "5xx"'), 'a = (', RUN, 'bad')).toContain(
      'its denominator filter cannot be read',
    );
  });

  describe('a ratio alerting below its threshold counts good requests: its numerator must select every request but the bad ones', () => {
    it.each([
      ['!= "5xx"', true, RUN, 'metric.labels.response_code_class != "5xx"'],
      ['= "2xx"', false, RUN, 'metric.labels.response_code_class = "2xx"'],
      ['!= "5xx" and != "4xx"', false, RUN, 'metric.labels.response_code_class != "5xx" AND metric.labels.response_code_class != "4xx"'],
      ['nothing said', false, RUN, 'metric.type = "run.googleapis.com/request_count"'],
      ['!= one_of', true, RUN, 'metric.labels.response_code_class != one_of("5xx")'],
      ['!= one_of of two', false, RUN, 'metric.labels.response_code_class != one_of("5xx", "4xx")'],
      ['= "5xx"', false, RUN, 'metric.labels.response_code_class = "5xx"'],
      ['< 500', true, CODE, 'metric.labels.response_code < 500'],
      ['<= 499', true, CODE, 'metric.labels.response_code <= 499'],
      ['< 400', false, CODE, 'metric.labels.response_code < 400'],
      ['<= 500', false, CODE, 'metric.labels.response_code <= 500'],
      ['>= 200 and < 500', false, CODE, 'metric.labels.response_code >= 200 AND metric.labels.response_code < 500'],
      ['< "high"', false, CODE, 'metric.labels.response_code < "high"'],
      ['< one_of', false, CODE, 'metric.labels.response_code < one_of("500")'],
    ])('%s → an error ratio: %s', (_what, ok, p, numerator) => {
      const refusal = errorRatioRefusal(numerator, 'metric.type = "x"', p, 'good');
      expect(refusal === null).toBe(ok);
      if (!ok) expect(refusal).toContain('it alerts below its threshold, so its numerator must select every request but the bad ones');
    });

    it('with several bad values, each must be excluded', () => {
      const two = predicate('metric.labels.code = one_of("500", "503")');
      expect(errorRatioRefusal('metric.labels.code != "500" AND metric.labels.code != "503"', '', two, 'good')).toBeNull();
      expect(errorRatioRefusal('metric.labels.code != "500"', '', two, 'good')).not.toBeNull();
      expect(
        errorRatioRefusal('metric.labels.code != "500" AND metric.labels.code != "503" AND metric.labels.code != "404"', '', two, 'good'),
      ).not.toBeNull();
    });
  });
});
