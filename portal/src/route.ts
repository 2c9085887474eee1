/**
 * Where the page is, in the fragment: `#/subscriptions`, `#/subscriptions/new`,
 * `#/subscriptions/<id>` (with `/edit`, `/deliveries`, `/queue`, `/dead-letters`,
 * `/events/<event id>`), `#/event-types`. The link's own fragment, `#token=…`, is read once and
 * replaced (see session.ts).
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { view: 'subscriptions' }
  | { view: 'new' }
  | { view: 'subscription'; id: string; tab: 'overview' | 'edit' | 'deliveries' | 'queue' | 'dead-letters' }
  | { view: 'event'; id: string; eventId: string }
  | { view: 'event-types' }
  | { view: 'missing' };

const TABS = ['edit', 'deliveries', 'queue', 'dead-letters'] as const;

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodePart);
  const [first, id, tab, eventId] = parts;
  if (!first || (first === 'subscriptions' && parts.length === 1)) return { view: 'subscriptions' };
  if (first === 'event-types' && parts.length === 1) return { view: 'event-types' };
  if (first !== 'subscriptions' || !id) return { view: 'missing' };
  if (id === 'new' && parts.length === 2) return { view: 'new' };
  if (tab === undefined) return { view: 'subscription', id, tab: 'overview' };
  if (tab === 'events' && eventId !== undefined && parts.length === 4) return { view: 'event', id, eventId };
  const known = TABS.find((t) => t === tab);
  return known && parts.length === 3 ? { view: 'subscription', id, tab: known } : { view: 'missing' };
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** The fragment of a place: `href(['subscriptions', id, 'events', eventId])`. */
export function href(parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join('/')}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', changed);
    // The fragment may have changed between the first render and this effect, with no one listening.
    changed();
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

export function go(parts: string[]): void {
  location.hash = href(parts);
}
