/** The list of endpoints (subscriptions), filtered by status, paged. */
import { useState } from 'preact/hooks';
import { usePortal } from '../context';
import { href } from '../route';
import type { Page, Subscription, SubscriptionStatus } from '../types';
import { ErrorNote, Pager, StatusBadge, STATUS_WORDS, useLoad, usePager } from '../ui';

const PAGE_SIZE = 20;

export function SubscriptionList() {
  const { api, readOnly } = usePortal();
  const [status, setStatus] = useState<SubscriptionStatus | ''>('');
  const pager = usePager(status);
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (status) query.set('status', status);
  if (pager.cursor) query.set('cursor', pager.cursor);
  const list = useLoad(() => api.get<Page<Subscription>>(`/v1/subscriptions?${query}`), query.toString());

  return (
    <>
      <div class="title-row">
        <h1>Endpoints</h1>
        {!readOnly && (
          <a class="button primary" href={href(['subscriptions', 'new'])}>
            Add endpoint
          </a>
        )}
      </div>
      <p class="lead">
        Each endpoint receives the events it subscribes to, in order, signed with its own secret.
      </p>
      <div class="filters">
        <label for="status-filter">Status</label>
        <select
          id="status-filter"
          value={status}
          onChange={(e) => setStatus((e.target as HTMLSelectElement).value as SubscriptionStatus | '')}
        >
          <option value="">All</option>
          {(Object.keys(STATUS_WORDS) as SubscriptionStatus[]).map((s) => (
            <option key={s} value={s}>
              {STATUS_WORDS[s]}
            </option>
          ))}
        </select>
      </div>
      <ErrorNote error={list.error} />
      {list.data && list.data.data.length === 0 && (
        <p class="empty">{status ? 'No endpoint has this status.' : 'No endpoints yet.'}</p>
      )}
      {list.data && list.data.data.length > 0 && (
        <table>
          <caption class="visually-hidden">Endpoints</caption>
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Status</th>
              <th scope="col">Event types</th>
              <th scope="col">Format</th>
            </tr>
          </thead>
          <tbody>
            {list.data.data.map((s) => (
              <tr key={s.id}>
                <th scope="row">
                  <a href={href(['subscriptions', s.id])}>{s.name ?? s.url}</a>
                  {s.name && <div class="muted url">{s.url}</div>}
                </th>
                <td>
                  <StatusBadge status={s.status} />
                </td>
                <td>{s.eventTypes.join(', ')}</td>
                <td>{s.format}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data && (
        <Pager
          label="Endpoint"
          page={pager.page}
          hasNext={list.data.nextCursor !== null}
          onPrevious={pager.previous}
          onNext={() => list.data?.nextCursor && pager.next(list.data.nextCursor)}
        />
      )}
    </>
  );
}
