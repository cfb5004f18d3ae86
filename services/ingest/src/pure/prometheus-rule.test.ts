import fc from 'fast-check';
import { generatorUrl, pyrraExpr, slothPageExpr, slothTicketExpr } from '../../test/alertmanager-payloads.js';
import {
  burnSeriesOf,
  expressionOfGeneratorUrl,
  labelMatchersOf,
  MAX_RULE_EXPRESSION,
  prometheusDurationSeconds,
  readRuleExpression,
  type RuleComparison,
} from './prometheus-rule.js';

const SLOTH_SELECTOR = 'sloth_id="api-backend-availability",sloth_service="api-backend",sloth_slo="availability"';
const budget = 0.010000000000000009;
const sloth = (window: string, factor: number): RuleComparison => ({
  metric: `slo:sli_error:ratio_rate${window}`,
  matchers: SLOTH_SELECTOR,
  operator: '>',
  threshold: { value: factor * budget, factor, budget },
});

describe("a Prometheus alert's rule expression", () => {
  it("reads Sloth's page rule as two branches of two windows each (5m/1h at 14.4×, 30m/6h at 6×)", () => {
    expect(readRuleExpression(slothPageExpr('api-backend'))).toEqual([
      [sloth('5m', 14.4), sloth('1h', 14.4)],
      [sloth('30m', 6), sloth('6h', 6)],
    ]);
  });

  it('reads the older Sloth form, max(…) without (sloth_window), the same way', () => {
    const sel = `{sloth_id="api-backend-availability", sloth_service="api-backend", sloth_slo="availability"}`;
    const old =
      `(max(slo:sli_error:ratio_rate5m${sel} > (14.4 * 0.010000000000000009)) without (sloth_window)\n and\n` +
      ` max(slo:sli_error:ratio_rate1h${sel} > (14.4 * 0.010000000000000009)) without (sloth_window))\nor\n` +
      `(max without (sloth_window) (slo:sli_error:ratio_rate30m${sel} > (6 * 0.010000000000000009))\n and\n` +
      ` max without (sloth_window) (slo:sli_error:ratio_rate6h${sel} > (6 * 0.010000000000000009)))`;
    expect(readRuleExpression(old)).toEqual(readRuleExpression(slothPageExpr('api-backend')));
  });

  it("reads Pyrra's rule, its budget written 1-target, without float noise", () => {
    expect(readRuleExpression(pyrraExpr('api-backend-availability', '5m', '1h', 14))).toEqual([
      [
        {
          metric: 'http_requests:burnrate5m',
          matchers: 'job="api-backend",slo="api-backend-availability"',
          operator: '>',
          threshold: { value: 0.14, factor: 14, budget: 0.01 },
        },
        {
          metric: 'http_requests:burnrate1h',
          matchers: 'job="api-backend",slo="api-backend-availability"',
          operator: '>',
          threshold: { value: 0.14, factor: 14, budget: 0.01 },
        },
      ],
    ]);
    expect(readRuleExpression('a > (2 * ( 1 - 0.999 ))')?.[0]?.[0]?.threshold).toEqual({ value: 0.002, factor: 2, budget: 0.001 });
  });

  it.each([
    ['a plain threshold', 'go_memstats_alloc_bytes > 0', { metric: 'go_memstats_alloc_bytes', operator: '>', value: 0 }],
    ['a threshold in parentheses', 'x >= (0.5)', { metric: 'x', operator: '>=', value: 0.5 }],
    ['below', 'x < 1e-3', { metric: 'x', operator: '<', value: 0.001 }],
    ['at most', 'x <= .5', { metric: 'x', operator: '<=', value: 0.5 }],
    ['equal', 'probe_success == 0', { metric: 'probe_success', operator: '==', value: 0 }],
    ['not equal', 'up != 1', { metric: 'up', operator: '!=', value: 1 }],
  ])('reads %s', (_name, expr, expected) => {
    const rule = readRuleExpression(expr);
    expect(rule).toHaveLength(1);
    expect(rule![0]).toHaveLength(1);
    const [c] = rule![0]!;
    expect({ metric: c!.metric, operator: c!.operator, value: c!.threshold.value }).toEqual(expected);
    expect(c!.threshold).toMatchObject({ factor: null, budget: null });
  });

  it('writes matchers sorted, whatever their order and spacing, keeping escaped quotes and regex operators', () => {
    const a = readRuleExpression('m{ b =~ "x\\"y" , a!="1",} > 1')![0]![0]!;
    const b = readRuleExpression('m{a!="1",b=~"x\\"y"} > 1')![0]![0]!;
    expect(a.matchers).toBe('a!="1",b=~"x\\"y"');
    expect(b.matchers).toBe(a.matchers);
    expect(readRuleExpression('m{} > 1')![0]![0]!.matchers).toBe('');
    expect(readRuleExpression('m{a!~"1"} > 1')![0]![0]!.matchers).toBe('a!~"1"');
  });

  it('gives back each matcher of a selector, its value unescaped, or unknown for an escape JSON does not have', () => {
    const c = readRuleExpression('m{ sloth_service = "a,b\\"c" , slo=~"x|y", job!="j", z="\\x41"} > 1')![0]![0]!;
    expect(labelMatchersOf(c.matchers)).toEqual([
      { name: 'job', operator: '!=', value: 'j', text: 'job!="j"' },
      { name: 'slo', operator: '=~', value: 'x|y', text: 'slo=~"x|y"' },
      { name: 'sloth_service', operator: '=', value: 'a,b"c', text: 'sloth_service="a,b\\"c"' },
      { name: 'z', operator: '=', value: null, text: 'z="\\x41"' },
    ]);
    expect(labelMatchersOf('')).toEqual([]);
    expect(labelMatchersOf('not matchers')).toBeNull();
    expect(labelMatchersOf('a="1"b="2"')).toBeNull();
  });

  it('reads back any selector value it was written with', () => {
    const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/);
    fc.assert(
      fc.property(fc.dictionary(name, fc.string({ maxLength: 12 }), { minKeys: 1, maxKeys: 4 }), (selector) => {
        const text = Object.entries(selector)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(', ');
        const rule = readRuleExpression(`m{${text}} > 1`);
        expect(rule).not.toBeNull();
        const read = labelMatchersOf(rule![0]![0]!.matchers)!;
        expect(Object.fromEntries(read.map((m) => [m.name, m.value]))).toEqual(selector);
      }),
    );
  });

  it.each([
    ['a function of a range', 'rate(http_requests_total[5m]) > 1'],
    ['arithmetic between series', 'a / b > 0.01'],
    ['a comparison with bool', 'a > bool 1'],
    ['an offset', 'a offset 5m > 1'],
    ['unless', 'a > 1 unless b > 1'],
    ['an or inside an and', '(a > 1 or b > 1) and c > 1'],
    ['an on() match', 'a > 1 and on (job) b > 1'],
    ['ignoring another label', 'a > 1 and ignoring (job) b > 1'],
    ['ignoring two labels', 'a > 1 and ignoring (sloth_window, job) b > 1'],
    ['max by', 'max by (job) (a > 1)'],
    ['max without another label', 'max(a > 1) without (job)'],
    ['max of two comparisons', 'max(a > 1 and b > 1)'],
    ['max of nothing', 'max()'],
    ['a budget not of 1', 'a > (14 * (2-0.99))'],
    ['a budget with no minus', 'a > (14 * (1 0.99))'],
    ['a product with no closing parenthesis', 'a > (14 * 0.01'],
    ['a sum threshold', 'a > (1 + 2)'],
    ['a series as the threshold', 'a > b'],
    ['a number first', '0.01 < a'],
    ['a keyword as a metric', 'and > 1'],
    ['or as a metric', 'or > 1'],
    ['no operator', 'a 1'],
    ['no threshold', 'a >'],
    ['two rules side by side', 'a > 1 b > 2'],
    ['a stray parenthesis', 'a > 1 )'],
    ['an unclosed parenthesis', '(a > 1'],
    ['an unclosed selector', 'a{x="y" > 1'],
    ['a matcher without a value', 'a{x} > 1'],
    ['a matcher without an operator', 'a{x "y"} > 1'],
    ['a label that is not a name', 'a{1x="y"} > 1'],
    ['a single-quoted value', "a{x='y'} > 1"],
    ['an unterminated string', 'a{x="y} > 1'],
    ['matchers without a comma', 'a{x="1" y="2"} > 1'],
    ['a selector without a name', '{__name__="a"} > 1'],
    ['Infinity', 'a > Inf'],
    ['a character no token starts with', 'a > 1 # comment'],
    ['nothing', ''],
    ['only spaces', '   \n '],
    ['a lone and', 'a > 1 and'],
  ])('does not read %s', (_name, expr) => {
    expect(readRuleExpression(expr)).toBeNull();
  });

  it.each(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset'])(
    'does not read the keyword %s as a metric',
    (keyword) => {
      expect(readRuleExpression(`${keyword} > 1`)).toBeNull();
      expect(readRuleExpression(`${keyword}_total > 1`)).not.toBeNull();
    },
  );

  it('does not read an expression longer than it reads, or nested deeper', () => {
    const long = `a{x="${'y'.repeat(MAX_RULE_EXPRESSION)}"} > 1`;
    expect(readRuleExpression(long)).toBeNull();
    expect(readRuleExpression(`a{x="${'y'.repeat(MAX_RULE_EXPRESSION - 20)}"} > 1`)).not.toBeNull();
    expect(readRuleExpression(`${'('.repeat(15)}a > 1${')'.repeat(15)}`)).not.toBeNull();
    expect(readRuleExpression(`${'('.repeat(16)}a > 1${')'.repeat(16)}`)).toBeNull();
    expect(readRuleExpression(`${'max('.repeat(15)}a > 1${')'.repeat(15)}`)).not.toBeNull();
    expect(readRuleExpression(`${'max('.repeat(16)}a > 1${')'.repeat(16)}`)).toBeNull();
  });

  it('reads any text in linear time, and never throws', () => {
    const adversarial = ['('.repeat(4000), 'a{x="'.repeat(1600), `a > 1 and ${'b > 1 and '.repeat(800)}c > 1`, '1'.repeat(8000)];
    for (const text of adversarial) {
      const started = process.hrtime.bigint();
      readRuleExpression(text);
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(200);
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        const rule = readRuleExpression(text);
        expect(rule === null || (Array.isArray(rule) && rule.every((b) => b.length > 0))).toBe(true);
      }),
    );
  });

  it('reads every generated multi-window rule back to its windows, factor and budget', () => {
    const window = fc.constantFrom('5m', '30m', '1h', '2h', '6h', '1d', '3d', '1h4m', '32m');
    fc.assert(
      fc.property(
        window,
        window,
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom('0.99', '0.999', '0.95'),
        (short, long, factor, target) => {
          const rule = readRuleExpression(pyrraExpr('s', short, long, factor, target))!;
          expect(rule).toHaveLength(1);
          expect(rule[0]!.map((c) => burnSeriesOf(c.metric)!.windowSeconds)).toEqual([
            prometheusDurationSeconds(short),
            prometheusDurationSeconds(long),
          ]);
          for (const c of rule[0]!)
            expect(c.threshold).toEqual({ value: factor * c.threshold.budget!, factor, budget: +(1 - Number(target)).toPrecision(12) });
        },
      ),
    );
    expect(readRuleExpression(slothTicketExpr('api-backend'))!.map((b) => b.map((c) => c.metric.slice(-2)))).toEqual([
      ['2h', '1d'],
      ['6h', '3d'],
    ]);
  });
});

describe("the rule expression in an alert's generatorURL", () => {
  it('is the g0.expr parameter, decoded', () => {
    expect(expressionOfGeneratorUrl(generatorUrl('a{x="y"} > 0.5'))).toBe('a{x="y"} > 0.5');
    expect(expressionOfGeneratorUrl('http://example.com:9090/graph?g0.expr=go_memstats_alloc_bytes+%3E+0&g0.tab=1')).toBe(
      'go_memstats_alloc_bytes > 0',
    );
  });

  it.each([
    ['no URL', undefined],
    ['null', null],
    ['an empty URL', ''],
    ['not a URL', 'not a url'],
    ['no g0.expr (Grafana, vmalert)', 'https://play.grafana.org/alerting/1afz29v7z/edit'],
    ['a blank g0.expr', 'http://p:9090/graph?g0.expr=+&g0.tab=1'],
    ['an overlong URL', `http://p:9090/graph?g0.expr=${'a'.repeat(4 * MAX_RULE_EXPRESSION)}`],
  ])('is none with %s', (_name, url) => {
    expect(expressionOfGeneratorUrl(url)).toBeNull();
  });

  it('is read from a URL as long as it reads', () => {
    const prefix = 'http://p:9090/graph?g0.expr=';
    const length = 4 * MAX_RULE_EXPRESSION - prefix.length;
    expect(expressionOfGeneratorUrl(`${prefix}${'a'.repeat(length)}`)).toHaveLength(length);
  });
});

describe('Prometheus durations and the burn series of Sloth and Pyrra', () => {
  it.each([
    ['5m', 300],
    ['30m', 1800],
    ['1h', 3600],
    ['1h4m', 3840],
    ['6h26m', 23160],
    ['1d', 86400],
    ['2w', 1_209_600],
    ['1y', 31_536_000],
    ['10s', 10],
    ['1m30s', 90],
    ['500ms', 0.5],
    ['', null],
    ['0m', null],
    ['5', null],
    ['m5', null],
    ['5m1h', null],
    ['5 m', null],
    [`${'1'.repeat(64)}m`, null],
    [`${'0'.repeat(62)}1m`, 60],
  ])('%s is %s seconds', (text, seconds) => {
    expect(prometheusDurationSeconds(text)).toBe(seconds);
  });

  it.each([
    ['slo:sli_error:ratio_rate5m', { tool: 'sloth', windowSeconds: 300 }],
    ['slo:sli_error:ratio_rate3d', { tool: 'sloth', windowSeconds: 259_200 }],
    ['http_requests:burnrate1h4m', { tool: 'pyrra', windowSeconds: 3840 }],
    ['apiserver_request:burnrate30m', { tool: 'pyrra', windowSeconds: 1800 }],
    ['slo:sli_error:ratio_rate', null],
    ['slo:sli_error:ratio_rateX', null],
    [':burnrate5m', null],
    ['http_requests:burnrate', null],
    ['http_requests:burnrate5x', null],
    ['go_memstats_alloc_bytes', null],
    ['slo:current_burn_rate:ratio', null],
  ])('%s is %j', (metric, series) => {
    expect(burnSeriesOf(metric)).toEqual(series);
  });
});
