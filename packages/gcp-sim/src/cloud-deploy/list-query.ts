import { invalidArgument } from '../errors.js';

/**
 * Paging, filtering and ordering for the List RPCs.
 *
 * Cloud Deploy documents only "see AIP-158/160/132". What is simulated:
 * - newest first by create time unless `order_by` says otherwise (a third-party
 *   client reports this default; only `create_time [asc|desc]` is accepted);
 * - `filter`: conjunctions of `field = "value"` / `field != "value"` (snake_case
 *   or camelCase paths, dotted for nested fields); anything else is rejected
 *   rather than ignored, so a caller never mistakes unfiltered results for filtered ones;
 * - `page_size` 0 → 50, above 1000 → 1000, negative → INVALID_ARGUMENT;
 * - `page_token` is a cursor after the last item returned, so resources created
 *   between pages neither repeat nor get skipped; it is valid only with the same
 *   parent, filter and order_by (AIP-158).
 */

export interface Listable {
  name: string;
  /** Create time in ms since the epoch. */
  createdAt: number;
  /** Insertion order; breaks ties between resources created in the same millisecond. */
  seq: number;
}

export interface ListQuery {
  method: string;
  parent: string;
  pageSize?: number;
  pageToken?: string;
  filter?: string;
  orderBy?: string;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

interface Cursor {
  m: string;
  p: string;
  f: string;
  o: string;
  t: number;
  s: number;
}

export function paginate<T>(all: readonly T[], keyOf: (item: T) => Listable, query: ListQuery): Page<T> {
  const pageSize = query.pageSize ?? 0;
  if (!Number.isInteger(pageSize) || pageSize < 0) throw invalidArgument(`page_size must not be negative, got ${pageSize}`);
  const size = pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(pageSize, MAX_PAGE_SIZE);
  const filter = query.filter ?? '';
  const orderBy = query.orderBy ?? '';
  const direction = parseOrderBy(orderBy);
  const matches = compileFilter(filter);

  const compare = (a: Listable, b: Listable): number => {
    const ascending = a.createdAt - b.createdAt || a.seq - b.seq;
    return direction === 'asc' ? ascending : -ascending;
  };
  let items = all.filter((item) => matches(item)).sort((a, b) => compare(keyOf(a), keyOf(b)));

  if (query.pageToken) {
    const cursor = decodeCursor(query.pageToken);
    if (cursor.m !== query.method || cursor.p !== query.parent || cursor.f !== filter || cursor.o !== orderBy) {
      throw invalidArgument('page_token does not belong to this request (parent, filter and order_by must not change between pages)');
    }
    const after: Listable = { name: '', createdAt: cursor.t, seq: cursor.s };
    items = items.filter((item) => compare(keyOf(item), after) > 0);
  }

  const page = items.slice(0, size);
  const last = page[page.length - 1];
  const nextPageToken =
    items.length > size && last !== undefined
      ? encodeCursor({
          m: query.method,
          p: query.parent,
          f: filter,
          o: orderBy,
          t: keyOf(last).createdAt,
          s: keyOf(last).seq,
        })
      : '';
  return { items: page, nextPageToken };
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeCursor(token: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      typeof value.m === 'string' &&
      typeof value.p === 'string' &&
      typeof value.f === 'string' &&
      typeof value.o === 'string' &&
      typeof value.t === 'number' &&
      typeof value.s === 'number'
    ) {
      return value as Cursor;
    }
  } catch {
    // fall through: any undecodable token is the caller's error
  }
  throw invalidArgument(`page_token "${token}" is invalid`);
}

function parseOrderBy(orderBy: string): 'asc' | 'desc' {
  const trimmed = orderBy.trim();
  if (trimmed === '') return 'desc';
  const match = /^(create_time|createTime)(?:\s+(asc|desc))?$/.exec(trimmed);
  if (!match) throw invalidArgument(`order_by "${orderBy}": cannot sort on field (gcp-sim sorts only on create_time)`);
  return match[2] === 'desc' ? 'desc' : 'asc';
}

const TERM = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(!=|=)\s*(?:"([^"]*)"|([^\s"()]+))$/;

const camel = (segment: string): string => segment.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Compiles the supported AIP-160 subset into a predicate over the resource's proto JSON. */
export function compileFilter(filter: string): (resource: unknown) => boolean {
  const trimmed = filter.trim();
  if (trimmed === '') return () => true;
  const terms = trimmed.split(/\s+AND\s+/).map((term) => {
    const match = TERM.exec(term.trim());
    if (!match) {
      throw invalidArgument(
        `filter "${filter}" is not supported by gcp-sim: use field = "value" terms joined by AND (term "${term.trim()}")`,
      );
    }
    const path = match[1]!.split('.').map(camel);
    const negate = match[2] === '!=';
    const expected = match[3] ?? match[4]!;
    return (resource: unknown): boolean => {
      let value: unknown = resource;
      for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
      const scalar = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint';
      const equal = scalar && String(value) === expected;
      return negate ? !equal : equal;
    };
  });
  return (resource) => terms.every((term) => term(resource));
}
