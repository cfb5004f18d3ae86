/**
 * The alerting rule behind a Prometheus alert, read from what Alertmanager
 * passes on: the rule's expression in the alert's `generatorURL`
 * (`…/graph?g0.expr=<expression>&g0.tab=1`). Only the shapes Burnback acts on
 * are read: Sloth's and Pyrra's multi-window burn-rate rules and a plain
 * threshold on one metric, as comparisons joined by `and` and `or`. Anything
 * else (arithmetic on series, a function other than `max`, `unless`, `bool`,
 * `offset`, a range, an `on`/`ignoring` other than Sloth's `ignoring (sloth_window)`)
 * is not read: what it measures is unknown. A one-pass tokenizer and a descent
 * bounded in depth, so any text is read in linear time, never a backtracking
 * pattern over the whole expression. Pure.
 */

export const ComparisonOperators = ['>', '>=', '<', '<=', '==', '!='] as const;
export type ComparisonOperator = (typeof ComparisonOperators)[number];

/** One `metric{matchers} OP threshold` of the rule. */
export interface RuleComparison {
  metric: string;
  /** The selector's matchers, sorted: `sloth_id="a",sloth_service="b"` ('' when it has none). */
  matchers: string;
  operator: ComparisonOperator;
  /**
   * The threshold: `value`, and for `(F * B)` (Sloth's `14.4 * 0.001`, Pyrra's
   * `14 * (1-0.99)`) the burn-rate factor F and the error budget B; both null for a plain number.
   */
  threshold: { value: number; factor: number | null; budget: number | null };
}

/** The rule in disjunctive form: the branches its `or` joins, each the comparisons its `and` joins. */
export type RuleExpression = RuleComparison[][];

/** The longest expression read (Sloth's page rule is about 700 characters); a longer one is not read. */
export const MAX_RULE_EXPRESSION = 8192;
/** The deepest nesting of parentheses read. */
const MAX_DEPTH = 16;

/** The rule expression a Prometheus `generatorURL` carries (`g0.expr`), or null when it carries none. */
export function expressionOfGeneratorUrl(generatorUrl: string | null | undefined): string | null {
  if (!generatorUrl || generatorUrl.length > 4 * MAX_RULE_EXPRESSION) return null;
  let url: URL;
  try {
    url = new URL(generatorUrl);
  } catch {
    return null;
  }
  const expr = url.searchParams.get('g0.expr');
  return expr !== null && expr.trim() !== '' ? expr : null;
}

type Token =
  | { kind: 'ident'; text: string }
  | { kind: 'number'; value: number }
  | { kind: 'matchers'; text: string }
  | { kind: 'op'; text: ComparisonOperator }
  | { kind: 'punct'; text: string };

const IDENT = /[A-Za-z_:][A-Za-z0-9_:]*/y;
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const OPERATOR = /(?:>=|<=|==|!=|>|<)/y;
const SPACE = /\s+/y;
const LABEL_NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const MATCH_OPERATOR = /(?:=~|!~|!=|=)/y;
const PUNCT = new Set(['(', ')', '*', '-', ',']);

/** `pattern` (sticky) at `at`, or null. */
function take(pattern: RegExp, text: string, at: number): string | null {
  pattern.lastIndex = at;
  const m = pattern.exec(text);
  return m === null ? null : m[0];
}

/** A double-quoted PromQL string at `at` (backslash escapes kept as written): its end, or -1 when unterminated. */
function stringEnd(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return -1;
}

/** `{a="x", b=~"y"}` at `at`: the matchers sorted and joined, and where the block ends; null when malformed. */
function readMatchers(text: string, at: number): { text: string; end: number } | null {
  const matchers: string[] = [];
  let i = at + 1;
  for (;;) {
    i += take(SPACE, text, i)?.length ?? 0;
    if (text[i] === '}') return { text: matchers.sort().join(','), end: i + 1 };
    const name = take(LABEL_NAME, text, i);
    if (name === null) return null;
    i += name.length;
    i += take(SPACE, text, i)?.length ?? 0;
    const op = take(MATCH_OPERATOR, text, i);
    if (op === null) return null;
    i += op.length;
    i += take(SPACE, text, i)?.length ?? 0;
    if (text[i] !== '"') return null;
    const end = stringEnd(text, i);
    if (end < 0) return null;
    matchers.push(`${name}${op}${text.slice(i, end)}`);
    i = end;
    i += take(SPACE, text, i)?.length ?? 0;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') return null;
  }
}

/** One label matcher of a selector: its label, operator and value (null when its escapes are not JSON's, so it is unknown). */
export interface LabelMatcher {
  name: string;
  operator: '=' | '!=' | '=~' | '!~';
  value: string | null;
  /** As the rule writes it: `sloth_service="checkout"`. */
  text: string;
}

/**
 * The matchers of a RuleComparison's `matchers` (as readMatchers writes them:
 * `name OP "value"`, joined by commas); null when the text is not in that form.
 */
export function labelMatchersOf(matchers: string): LabelMatcher[] | null {
  const read: LabelMatcher[] = [];
  let i = 0;
  while (i < matchers.length) {
    const name = take(LABEL_NAME, matchers, i);
    if (name === null) return null;
    const op = take(MATCH_OPERATOR, matchers, i + name.length);
    const start = i + name.length + (op?.length ?? 0);
    if (op === null || matchers[start] !== '"') return null;
    const end = stringEnd(matchers, start);
    if (end < 0 || (end < matchers.length && matchers[end] !== ',')) return null;
    let value: string | null;
    try {
      value = JSON.parse(matchers.slice(start, end)) as string;
    } catch {
      // An escape PromQL takes and JSON does not (\x41, \101, \a): the value is unknown.
      value = null;
    }
    read.push({ name, operator: op as LabelMatcher['operator'], value, text: matchers.slice(i, end) });
    i = end + 1;
  }
  return read;
}

/** The expression's tokens, or null at the first character no token of the read shapes starts with. */
function tokenize(text: string): Token[] | null {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const space = take(SPACE, text, i);
    if (space !== null) {
      i += space.length;
      continue;
    }
    const c = text[i]!;
    if (c === '{') {
      const block = readMatchers(text, i);
      if (block === null) return null;
      tokens.push({ kind: 'matchers', text: block.text });
      i = block.end;
      continue;
    }
    if (PUNCT.has(c)) {
      tokens.push({ kind: 'punct', text: c });
      i++;
      continue;
    }
    const word = take(IDENT, text, i) ?? take(NUMBER, text, i) ?? take(OPERATOR, text, i);
    if (word === null) return null;
    if (/^[A-Za-z_:]/.test(word)) tokens.push({ kind: 'ident', text: word });
    else if (/^[\d.]/.test(word)) tokens.push({ kind: 'number', value: Number(word) });
    else tokens.push({ kind: 'op', text: word as ComparisonOperator });
    i += word.length;
  }
  return tokens;
}

/** PromQL's keywords: never a metric name here. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset']);

/** Thrown inside the descent when the text is not one of the read shapes; never escapes readRuleExpression. */
class Unread extends Error {
  override name = 'Unread';
}

class Reader {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }
  private isIdent(text: string): boolean {
    const t = this.peek();
    return t?.kind === 'ident' && t.text === text;
  }
  private isPunct(text: string): boolean {
    const t = this.peek();
    return t?.kind === 'punct' && t.text === text;
  }
  private expectPunct(text: string): void {
    if (!this.isPunct(text)) throw new Unread();
    this.at++;
  }
  private number(): number {
    const t = this.peek();
    if (t?.kind !== 'number') throw new Unread();
    this.at++;
    return t.value;
  }
  get done(): boolean {
    return this.at === this.tokens.length;
  }

  /** `(sloth_window)`, after Sloth's `ignoring` and `without`: the one label list read. */
  private slothWindowList(): void {
    this.expectPunct('(');
    if (!this.isIdent('sloth_window')) throw new Unread();
    this.at++;
    this.expectPunct(')');
  }

  or(depth: number): RuleExpression {
    const branches = this.and(depth);
    while (this.isIdent('or')) {
      this.at++;
      this.ignoringSlothWindow();
      branches.push(...this.and(depth));
    }
    return branches;
  }

  private ignoringSlothWindow(): void {
    if (!this.isIdent('ignoring')) return;
    this.at++;
    this.slothWindowList();
  }

  private and(depth: number): RuleExpression {
    let joined = this.primary(depth);
    while (this.isIdent('and')) {
      this.at++;
      this.ignoringSlothWindow();
      const next = this.primary(depth);
      // An `or` inside an `and` is not one of the shapes read.
      if (joined.length !== 1 || next.length !== 1) throw new Unread();
      joined = [[...joined[0]!, ...next[0]!]];
    }
    return joined;
  }

  private primary(depth: number): RuleExpression {
    if (depth >= MAX_DEPTH) throw new Unread();
    if (this.isPunct('(')) {
      this.at++;
      const inner = this.or(depth + 1);
      this.expectPunct(')');
      return inner;
    }
    if (this.isIdent('max')) return this.max(depth);
    return [[this.comparison()]];
  }

  /** Sloth's `max(<comparison>) without (sloth_window)` (or `max without (sloth_window) (…)`): the comparison. */
  private max(depth: number): RuleExpression {
    this.at++;
    const before = this.isIdent('without');
    if (before) {
      this.at++;
      this.slothWindowList();
    }
    this.expectPunct('(');
    const inner = this.or(depth + 1);
    this.expectPunct(')');
    if (!before && this.isIdent('without')) {
      this.at++;
      this.slothWindowList();
    }
    if (inner.length !== 1 || inner[0]!.length !== 1) throw new Unread();
    return inner;
  }

  private comparison(): RuleComparison {
    const name = this.peek();
    if (name?.kind !== 'ident' || KEYWORDS.has(name.text)) throw new Unread();
    this.at++;
    const block = this.peek();
    let matchers = '';
    if (block?.kind === 'matchers') {
      matchers = block.text;
      this.at++;
    }
    const op = this.peek();
    if (op?.kind !== 'op') throw new Unread();
    this.at++;
    return { metric: name.text, matchers, operator: op.text, threshold: this.threshold() };
  }

  /** `N`, `(N)`, `(F * B)` with B a number or `(1 - T)`. */
  private threshold(): RuleComparison['threshold'] {
    if (!this.isPunct('(')) return { value: this.number(), factor: null, budget: null };
    this.at++;
    const first = this.number();
    if (this.isPunct(')')) {
      this.at++;
      return { value: first, factor: null, budget: null };
    }
    this.expectPunct('*');
    const budget = this.budget();
    this.expectPunct(')');
    return { value: first * budget, factor: first, budget };
  }

  private budget(): number {
    if (!this.isPunct('(')) return this.number();
    this.at++;
    if (this.number() !== 1) throw new Unread();
    this.expectPunct('-');
    const target = this.number();
    this.expectPunct(')');
    // 1 − 0.99 without the float noise (0.010000000000000009).
    return Number((1 - target).toPrecision(12));
  }
}

/** The rule's comparisons in disjunctive form, or null when the expression is not one of the shapes read. */
export function readRuleExpression(expr: string): RuleExpression | null {
  if (expr.length > MAX_RULE_EXPRESSION) return null;
  const tokens = tokenize(expr);
  if (tokens === null || tokens.length === 0) return null;
  const reader = new Reader(tokens);
  try {
    const rule = reader.or(0);
    return reader.done ? rule : null;
  } catch {
    // Unread: not one of the shapes read (the descent throws nothing else; its depth is bounded).
    return null;
  }
}

/** Which tool's error-ratio recording rule a metric is, and over what window. */
export interface BurnSeries {
  tool: 'sloth' | 'pyrra';
  windowSeconds: number;
}

const SLOTH_PREFIX = 'slo:sli_error:ratio_rate';
const PYRRA_INFIX = ':burnrate';
/** A Prometheus duration (`5m`, `1h4m`, `3d`); each unit at most once, largest first. */
const PROMETHEUS_DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS = [365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001];

/** A Prometheus duration in seconds; null when it is not one, or is zero. */
export function prometheusDurationSeconds(text: string): number | null {
  const m = text.length <= 64 ? PROMETHEUS_DURATION.exec(text) : null;
  if (m === null) return null;
  const seconds = DURATION_UNITS.reduce((sum, unit, i) => sum + Number(m[i + 1] ?? 0) * unit, 0);
  return seconds > 0 ? seconds : null;
}

/**
 * Sloth's SLI error ratio `slo:sli_error:ratio_rate<window>` or Pyrra's
 * `<name>:burnrate<window>` (an error ratio too, whatever its name says); null for any other metric.
 */
export function burnSeriesOf(metric: string): BurnSeries | null {
  if (metric.startsWith(SLOTH_PREFIX)) {
    const windowSeconds = prometheusDurationSeconds(metric.slice(SLOTH_PREFIX.length));
    return windowSeconds === null ? null : { tool: 'sloth', windowSeconds };
  }
  const at = metric.lastIndexOf(PYRRA_INFIX);
  if (at <= 0) return null;
  const windowSeconds = prometheusDurationSeconds(metric.slice(at + PYRRA_INFIX.length));
  return windowSeconds === null ? null : { tool: 'pyrra', windowSeconds };
}
