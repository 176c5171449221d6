/**
 * SQL that is true when the application whose id is the parameter `param`
 * (e.g. `$2`) has been deleted, judged from the event store rather than from
 * a read model: a key, client or subscription of the application that
 * another DC created concurrently may be projected after the deletion, and
 * the store is ahead of every projection. In a replay from the start the
 * deletion is already in the store, so such a row is born revoked or removed:
 * the state the replayed deletion would give it anyway.
 */
export function applicationDeleted(param: string): string {
  return `EXISTS (SELECT 1 FROM events WHERE stream_id = ${param} AND type = 'application.deleted')`;
}
