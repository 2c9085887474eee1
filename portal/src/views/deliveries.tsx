/** Delivery attempts of an endpoint, newest first, paged; failed ones marked in words, not only colour. */
import { useState } from 'preact/hooks';
import { seg } from '../api';
import { usePortal } from '../context';
import { href } from '../route';
import type { Delivery, Page } from '../types';
import { ErrorNote, Pager, Time, useLoad, usePager } from '../ui';

const PAGE_SIZE = 25;
type Outcome = '' | 'failed' | 'succeeded';

export const succeeded = (d: Delivery) => d.statusCode !== null && d.statusCode >= 200 && d.statusCode < 300;

export function DeliveriesPanel({ subscriptionId }: { subscriptionId: string }) {
  const { api } = usePortal();
  const [outcome, setOutcome] = useState<Outcome>('');
  const pager = usePager(outcome);
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (outcome) query.set('outcome', outcome);
  if (pager.cursor) query.set('cursor', pager.cursor);
  const page = useLoad(
    () => api.get<Page<Delivery>>(`/v1/subscriptions/${seg(subscriptionId)}/deliveries?${query}`),
    `${subscriptionId}?${query}`,
  );
  return (
    <section aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Delivery attempts</h2>
      <p class="lead">
        Every request of the last 7 days. A failed request is retried with growing pauses for up to 7 days.
      </p>
      <div class="filters">
        <label for="outcome-filter">Show</label>
        <select
          id="outcome-filter"
          value={outcome}
          onChange={(e) => setOutcome((e.target as HTMLSelectElement).value as Outcome)}
        >
          <option value="">All attempts</option>
          <option value="failed">Failed only</option>
          <option value="succeeded">Succeeded only</option>
        </select>
        <button type="button" onClick={page.reload}>
          Refresh
        </button>
      </div>
      <ErrorNote error={page.error} />
      {page.data && page.data.data.length === 0 && (
        <p class="empty">No delivery attempts{outcome ? ' of this kind' : ''} yet.</p>
      )}
      {page.data && page.data.data.length > 0 && (
        <table class="deliveries">
          <caption class="visually-hidden">Delivery attempts, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Outcome</th>
              <th scope="col">Status</th>
              <th scope="col">Error</th>
              <th scope="col">Duration</th>
              <th scope="col">Attempt</th>
              <th scope="col">Events</th>
            </tr>
          </thead>
          <tbody>
            {page.data.data.map((d) => (
              <tr key={`${d.msgId}-${d.attempt}`} class={succeeded(d) ? 'ok' : 'failed'}>
                <td>
                  <Time at={d.at} />
                </td>
                <td>
                  <span class={succeeded(d) ? 'badge ok' : 'badge failed'}>
                    {succeeded(d) ? 'Succeeded' : 'Failed'}
                  </span>
                </td>
                <td>{d.statusCode ?? 'no answer'}</td>
                <td class="error-text">{d.error ?? ''}</td>
                <td>{d.durationMs} ms</td>
                <td>
                  {d.attempt}
                  <div class="muted">
                    <code>{d.msgId}</code>
                  </div>
                </td>
                <td>
                  <ul class="plain">
                    {d.eventIds.map((e) => (
                      <li key={e}>
                        <a href={href(['subscriptions', subscriptionId, 'events', e])}>{e}</a>
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page.data && (
        <Pager
          label="Delivery attempt"
          page={pager.page}
          hasNext={page.data.nextCursor !== null}
          onPrevious={pager.previous}
          onNext={() => page.data?.nextCursor && pager.next(page.data.nextCursor)}
        />
      )}
    </section>
  );
}
