/** One event at one endpoint: where it stands (queued, delivered, dead) and its payload. */
import { useState } from 'preact/hooks';
import { seg } from '../api';
import { usePortal } from '../context';
import { href } from '../route';
import type { EntryStatus, StoredEvent } from '../types';
import { ErrorNote, Time, useLoad } from '../ui';

const STATE_WORDS: Record<EntryStatus['status'], string> = {
  pending: 'Waiting to be sent',
  delivering: 'Being delivered (retrying)',
  delivered: 'Delivered',
  dead: 'Given up on (dead letter)',
};

export function EventView({ subscriptionId, eventId }: { subscriptionId: string; eventId: string }) {
  const { api, readOnly, announce } = usePortal();
  const key = `${subscriptionId}/${eventId}`;
  const entry = useLoad(
    () => api.get<EntryStatus>(`/v1/subscriptions/${seg(subscriptionId)}/events/${seg(eventId)}`),
    key,
  );
  const event = useLoad(() => api.get<StoredEvent>(`/v1/events/${seg(eventId)}`), key);
  const [error, setError] = useState<unknown>(null);
  const redeliver = async () => {
    setError(null);
    try {
      await api.post(`/v1/subscriptions/${seg(subscriptionId)}/redeliver`, { eventIds: [eventId] });
      announce('The event is queued again.');
      entry.reload();
    } catch (err) {
      setError(err);
    }
  };
  const e = entry.data;
  return (
    <>
      <p class="crumbs">
        <a href={href(['subscriptions'])}>Endpoints</a> /{' '}
        <a href={href(['subscriptions', subscriptionId, 'deliveries'])}>Endpoint</a> /
      </p>
      <h1>
        Event <code>{eventId}</code>
      </h1>
      <ErrorNote error={entry.error} />
      {e && (
        <section aria-labelledby="state-title">
          <h2 id="state-title">At this endpoint</h2>
          <dl class="facts">
            <dt>State</dt>
            <dd>
              <span class={`badge entry-${e.status}`}>{STATE_WORDS[e.status]}</span>
            </dd>
            <dt>Attempts</dt>
            <dd>{e.attempts}</dd>
            <dt>Last answer</dt>
            <dd>{e.lastStatusCode ?? (e.attempts ? 'no answer' : '—')}</dd>
            <dt>Last error</dt>
            <dd class="error-text">{e.lastError ?? '—'}</dd>
            <dt>Last attempt at</dt>
            <dd>
              <Time at={e.lastAttemptAt} />
            </dd>
            <dt>Delivered at</dt>
            <dd>
              <Time at={e.deliveredAt} />
            </dd>
          </dl>
          {!readOnly && (e.status === 'delivered' || e.status === 'dead') && (
            <button type="button" onClick={() => void redeliver()}>
              {e.status === 'dead' ? 'Redeliver' : 'Send again'}
            </button>
          )}
          <ErrorNote error={error} />
        </section>
      )}
      <section aria-labelledby="payload-title">
        <h2 id="payload-title">Payload</h2>
        <ErrorNote error={event.error} />
        {event.data && (
          <>
            <dl class="facts">
              <dt>Type</dt>
              <dd>{event.data.type}</dd>
              <dt>Source</dt>
              <dd>{event.data.source}</dd>
              <dt>Subject</dt>
              <dd>{event.data.subject ?? '—'}</dd>
              <dt>Time</dt>
              <dd>
                <Time at={event.data.time} />
              </dd>
            </dl>
            <pre class="json" tabIndex={0} aria-label="Event data">
              {JSON.stringify(event.data.data, null, 2)}
            </pre>
          </>
        )}
      </section>
    </>
  );
}
