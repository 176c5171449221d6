import { ArgsType, Field, ID, Int } from '@nestjs/graphql';
import { Queryable } from '../infrastructure/event-store/event-store';
import { InputError } from './input-validation';

/** The most rows a list query returns at once, and what it returns without `first`. */
export const MAX_PAGE = 1000;

/** What a list query was asked for: `first` rows after the row whose id is `after` (none: from the start). */
@ArgsType()
export class PageRequest {
  @Field(() => Int, { nullable: true, description: `At most this many rows (1..${MAX_PAGE}; default ${MAX_PAGE})` })
  first?: number | null;

  @Field(() => ID, { nullable: true, description: 'The id of the last row of the previous page; none: from the start' })
  after?: string | null;
}

/**
 * A keyset page's SQL: a condition to AND into the query (or 'TRUE'), the
 * ORDER BY the cursor assumes, and its LIMIT; their values are pushed onto `params`.
 */
export interface PageSql {
  condition: string;
  orderBy: string;
  limit: string;
}

/** Where a keyset page reads from: `table` (as `alias` in the query), ordered by `(sortColumn, idColumn)`. */
export interface KeysetOrder {
  table: string;
  alias: string;
  sortColumn: string;
  /** The unique column `after` names a row by (default `id`). */
  idColumn?: string;
  /** A uuid id column: an `after` that is no uuid is refused as bad input rather than by PostgreSQL. */
  uuidIds?: boolean;
  /** Newest first: both columns descending. */
  descending?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Keyset paging over rows ordered by `(sortColumn, idColumn)`: the next page
 * starts after the `after` row's own position, so rows added meanwhile never
 * shift a page. A row whose sort column only grows (an update time) can move
 * past the cursor while a client pages: it may then be listed twice, never
 * missed. The query must order its rows by the page's `orderBy`.
 */
export async function keysetPage(db: Queryable, request: PageRequest, order: KeysetOrder, params: unknown[]): Promise<PageSql> {
  const { table, alias, sortColumn, idColumn = 'id', descending = false } = order;
  const first = request.first ?? MAX_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE)
    throw new InputError(`first: must be an integer from 1 to ${MAX_PAGE}`, ['first']);
  params.push(first);
  const limit = `LIMIT $${params.length}`;
  const direction = descending ? ' DESC' : '';
  const orderBy = `ORDER BY ${alias}.${sortColumn}${direction}, ${alias}.${idColumn}${direction}`;
  if (request.after === undefined || request.after === null) return { condition: 'TRUE', orderBy, limit };
  const unknownRow = () => new InputError('after: no row has this id (pass the id of the last row of the previous page)', ['after']);
  if (order.uuidIds && !UUID.test(request.after)) throw unknownRow();
  const found = (await db.query(`SELECT 1 FROM ${table} WHERE ${idColumn} = $1`, [request.after])) as unknown[];
  if (found.length === 0) throw unknownRow();
  params.push(request.after);
  // The cursor row's sort value is read in SQL: a timestamptz through JavaScript loses its microseconds,
  // and the cursor row would then sort after itself and start the next page again.
  const cursor = `(SELECT after_row.${sortColumn}, after_row.${idColumn} FROM ${table} after_row WHERE after_row.${idColumn} = $${params.length})`;
  return { condition: `(${alias}.${sortColumn}, ${alias}.${idColumn}) ${descending ? '<' : '>'} ${cursor}`, orderBy, limit };
}

/** A keyset page of a query with no other parameters: the SQL to place after its FROM, with their values. */
export interface PageClause {
  /** `WHERE ... ORDER BY ... LIMIT $n`, its placeholders numbered from $1. */
  sql: string;
  params: unknown[];
}

export async function pageClause(db: Queryable, request: PageRequest, order: KeysetOrder): Promise<PageClause> {
  const params: unknown[] = [];
  const page = await keysetPage(db, request, order, params);
  return { sql: `WHERE ${page.condition} ${page.orderBy} ${page.limit}`, params };
}
