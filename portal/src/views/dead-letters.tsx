/** Events given up on after 7 days of failed attempts; they can be sent again, in their original order. */
import { useState } from 'preact/hooks';
import { seg } from '../api';
import { usePortal } from '../context';
import { href } from '../route';
import type { DeadLetter } from '../types';
import { ErrorNote, Pager, Time, useLoad, useSlice } from '../ui';

export function DeadLettersPanel({ subscriptionId }: { subscriptionId: string }) {
  const { api, readOnly, announce } = usePortal();
  const list = useLoad(
    () => api.get<{ data: DeadLetter[] }>(`/v1/subscriptions/${seg(subscriptionId)}/dead-letters`),
    subscriptionId,
  );
  const letters = list.data?.data ?? [];
  const slice = useSlice(letters, 25, subscriptionId);
  const [chosen, setChosen] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const redeliver = async (eventIds: string[]) => {
    setBusy(true);
    setError(null);
    try {
      const { requeued } = await api.post<{ requeued: string[] }>(
        `/v1/subscriptions/${seg(subscriptionId)}/redeliver`,
        {
          eventIds,
        },
      );
      announce(`${requeued.length} event${requeued.length === 1 ? '' : 's'} queued again.`);
      setChosen([]);
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const toggle = (id: string, on: boolean) => setChosen((c) => (on ? [...c, id] : c.filter((x) => x !== id)));

  return (
    <section aria-labelledby="dead-title">
      <h2 id="dead-title">Dead letters</h2>
      <p class="lead">
        Events whose requests kept failing for 7 days. The endpoint got the next events meanwhile; sending
        these again queues them in their original order.
      </p>
      <ErrorNote error={list.error} />
      {list.data && letters.length === 0 && <p class="empty">No dead letters.</p>}
      {letters.length > 0 && !readOnly && (
        <div class="actions">
          <button
            type="button"
            class="primary"
            disabled={busy || chosen.length === 0}
            onClick={() => void redeliver(letters.map((l) => l.event.id).filter((id) => chosen.includes(id)))}
          >
            Redeliver selected ({chosen.length})
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() => void redeliver(letters.slice(0, 1000).map((l) => l.event.id))}
          >
            Redeliver all{letters.length > 1000 ? ' (first 1,000)' : ''}
          </button>
        </div>
      )}
      <ErrorNote error={error} />
      {slice.items.length > 0 && (
        <table>
          <caption class="visually-hidden">Dead letters, oldest first</caption>
          <thead>
            <tr>
              {!readOnly && (
                <th scope="col">
                  <span class="visually-hidden">Select</span>
                </th>
              )}
              <th scope="col">Event</th>
              <th scope="col">Type</th>
              <th scope="col">Given up</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
            </tr>
          </thead>
          <tbody>
            {slice.items.map((l) => (
              <tr key={l.event.id} class="failed">
                {!readOnly && (
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${l.event.id}`}
                      checked={chosen.includes(l.event.id)}
                      onChange={(e) => toggle(l.event.id, (e.target as HTMLInputElement).checked)}
                    />
                  </td>
                )}
                <th scope="row">
                  <a href={href(['subscriptions', subscriptionId, 'events', l.event.id])}>{l.event.id}</a>
                </th>
                <td>{l.event.type}</td>
                <td>
                  <Time at={l.deadAt} />
                </td>
                <td>{l.attempts}</td>
                <td>
                  {l.lastStatusCode ?? 'no answer'}
                  {l.lastError && <div class="error-text">{l.lastError}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager label="Dead letter" {...slice.pager} />
    </section>
  );
}
