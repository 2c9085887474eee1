/** The tenant registry's rules, pure: uniqueness of URLs, listing with a cursor, routing. */
import { matchesEventType } from '../domain/matching';
import type { ListRequest, RegistryEntry } from './messages';

export function findByUrl(entries: RegistryEntry[], url: string): RegistryEntry | undefined {
  return entries.find((e) => e.url === url);
}

/** Entries matching the filters, in id order, after `cursor` (the last id of the previous page). */
export function listPage(
  entries: RegistryEntry[],
  req: ListRequest,
): { ids: string[]; nextCursor: string | null } {
  const matching = entries
    .filter((e) => req.url === undefined || e.url === req.url)
    .filter((e) => req.status === undefined || e.status === req.status)
    .filter((e) => req.eventType === undefined || matchesEventType(e.eventTypes, req.eventType))
    .filter((e) => req.cursor === undefined || e.id > req.cursor)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const page = matching.slice(0, req.limit);
  const more = matching.length > req.limit;
  return { ids: page.map((e) => e.id), nextCursor: more ? page[page.length - 1]!.id : null };
}
