/** The tenant's event-type catalog: what an endpoint can subscribe to, with the schema of each. */
import { usePortal } from '../context';
import type { EventType } from '../types';
import { ErrorNote, useLoad } from '../ui';

export function EventTypesView() {
  const { api } = usePortal();
  const list = useLoad(() => api.get<{ data: EventType[] }>('/v1/event-types'), 'event-types');
  const types = list.data?.data ?? [];
  return (
    <>
      <h1>Event types</h1>
      <p class="lead">
        The events you can subscribe to. Subscribe to one by name, to a family with <code>prefix.*</code>, or
        to all with <code>*</code>.
      </p>
      <ErrorNote error={list.error} />
      {list.data && types.length === 0 && <p class="empty">No event types are listed yet.</p>}
      {types.map((t) => (
        <article key={t.name} class="event-type" aria-labelledby={`type-${t.name}`}>
          <h2 id={`type-${t.name}`}>
            <code>{t.name}</code>
          </h2>
          {t.description && <p>{t.description}</p>}
          {t.schema !== null && t.schema !== undefined ? (
            <details>
              <summary>Schema of its data</summary>
              <pre class="json" tabIndex={0}>
                {JSON.stringify(t.schema, null, 2)}
              </pre>
            </details>
          ) : (
            <p class="muted">No schema: any JSON data.</p>
          )}
        </article>
      ))}
    </>
  );
}
