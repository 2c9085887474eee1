/** What waits for an endpoint, in delivery order: while it is down this is what it will get. */
import { seg } from '../api';
import { usePortal } from '../context';
import { href } from '../route';
import type { QueueEntry, Subscription } from '../types';
import { ErrorNote, Pager, Time, useLoad, useSlice } from '../ui';

export function QueuePanel({ subscription }: { subscription: Subscription }) {
  const { api } = usePortal();
  const queue = useLoad(
    () => api.get<{ data: QueueEntry[]; size: number }>(`/v1/subscriptions/${seg(subscription.id)}/queue`),
    subscription.id,
  );
  const slice = useSlice(queue.data?.data ?? [], 25, subscription.id);
  return (
    <section aria-labelledby="queue-title">
      <h2 id="queue-title">Queue</h2>
      <div class="filters">
        <p class="lead" role="status">
          {queue.data
            ? queue.data.size === 0
              ? 'Nothing is waiting: every event was delivered.'
              : `${queue.data.size} event${queue.data.size === 1 ? '' : 's'} waiting, oldest first.`
            : 'Loading…'}
          {subscription.status === 'paused' &&
            ' The endpoint is paused: events keep queueing until it is resumed.'}
        </p>
        <button type="button" onClick={queue.reload}>
          Refresh
        </button>
      </div>
      <ErrorNote error={queue.error} />
      {slice.items.length > 0 && (
        <table>
          <caption class="visually-hidden">Queued events, in delivery order</caption>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Type</th>
              <th scope="col">Queued</th>
              <th scope="col">State</th>
              <th scope="col">Attempts</th>
            </tr>
          </thead>
          <tbody>
            {slice.items.map((q) => (
              <tr key={q.eventId}>
                <th scope="row">
                  <a href={href(['subscriptions', subscription.id, 'events', q.eventId])}>{q.eventId}</a>
                </th>
                <td>{q.type}</td>
                <td>
                  <Time at={q.enqueuedAt} />
                </td>
                <td>{q.status === 'delivering' ? 'Being delivered (retrying)' : 'Waiting'}</td>
                <td>{q.attempts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager label="Queue" {...slice.pager} />
    </section>
  );
}
