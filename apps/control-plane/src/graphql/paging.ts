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

/** A keyset page's SQL: a condition to AND into the query (or 'TRUE') and its LIMIT; their values are pushed onto `params`. */
export interface PageSql {
  condition: string;
  limit: string;
}

/**
 * Keyset paging over rows ordered by `(sortColumn, id)` of `table` (as
 * `alias` in the query): the next page starts after the `after` row's own
 * position, so rows added meanwhile never shift a page. A row whose sort
 * column only grows (an update time) can move past the cursor while a client
 * pages: it may then be listed twice, never missed.
 */
export async function keysetPage(
  db: Queryable,
  request: PageRequest,
  { table, alias, sortColumn }: { table: string; alias: string; sortColumn: string },
  params: unknown[],
): Promise<PageSql> {
  const first = request.first ?? MAX_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE)
    throw new InputError(`first: must be an integer from 1 to ${MAX_PAGE}`, ['first']);
  params.push(first);
  const limit = `LIMIT $${params.length}`;
  if (request.after === undefined || request.after === null) return { condition: 'TRUE', limit };
  const [cursor] = (await db.query(`SELECT ${sortColumn} AS sort FROM ${table} WHERE id = $1`, [request.after])) as { sort: unknown }[];
  if (!cursor) throw new InputError('after: no row has this id (pass the id of the last row of the previous page)', ['after']);
  params.push(cursor.sort, request.after);
  return { condition: `(${alias}.${sortColumn}, ${alias}.id) > ($${params.length - 1}, $${params.length})`, limit };
}
