/** One endpoint: its settings and secret, and tabs for its deliveries, queue and dead letters. */
import { useState } from 'preact/hooks';
import { seg } from '../api';
import { usePortal } from '../context';
import { go, href } from '../route';
import type { Subscription } from '../types';
import { ConfirmButton, ErrorNote, StatusBadge, Time, useLoad } from '../ui';
import { DeadLettersPanel } from './dead-letters';
import { DeliveriesPanel } from './deliveries';
import { QueuePanel } from './queue';
import { SubscriptionForm } from './subscription-form';

type Tab = 'overview' | 'edit' | 'deliveries' | 'queue' | 'dead-letters';

const TABS: { tab: Exclude<Tab, 'edit'>; label: string }[] = [
  { tab: 'overview', label: 'Overview' },
  { tab: 'deliveries', label: 'Deliveries' },
  { tab: 'queue', label: 'Queue' },
  { tab: 'dead-letters', label: 'Dead letters' },
];

export function SubscriptionView({ id, tab }: { id: string; tab: Tab }) {
  const { api, readOnly } = usePortal();
  const [round, setRound] = useState(0);
  const sub = useLoad(() => api.get<Subscription>(`/v1/subscriptions/${seg(id)}`), `${id}:${tab}:${round}`);
  if (sub.error && !sub.data) {
    return (
      <>
        <h1>Endpoint</h1>
        <ErrorNote error={sub.error} />
        <p>
          <a href={href(['subscriptions'])}>Back to your endpoints</a>
        </p>
      </>
    );
  }
  if (!sub.data) return <p role="status">Loading…</p>;
  const s = sub.data;
  if (tab === 'edit' && !readOnly) return <SubscriptionForm existing={s} />;
  const reload = () => setRound((r) => r + 1);
  return (
    <>
      <p class="crumbs">
        <a href={href(['subscriptions'])}>Endpoints</a> /
      </p>
      <div class="title-row">
        <h1>{s.name ?? s.url}</h1>
        <StatusBadge status={s.status} />
      </div>
      {s.name && <p class="url">{s.url}</p>}
      {!readOnly && <Controls subscription={s} changed={reload} />}
      <nav class="tabs" aria-label="Endpoint sections">
        {TABS.map((t) => (
          <a
            key={t.tab}
            href={t.tab === 'overview' ? href(['subscriptions', s.id]) : href(['subscriptions', s.id, t.tab])}
            aria-current={t.tab === tab || (tab === 'edit' && t.tab === 'overview') ? 'page' : undefined}
          >
            {t.label}
          </a>
        ))}
      </nav>
      {(tab === 'overview' || tab === 'edit') && <Overview subscription={s} />}
      {tab === 'deliveries' && <DeliveriesPanel subscriptionId={s.id} />}
      {tab === 'queue' && <QueuePanel subscription={s} />}
      {tab === 'dead-letters' && <DeadLettersPanel subscriptionId={s.id} />}
    </>
  );
}

function Controls({ subscription: s, changed }: { subscription: Subscription; changed: () => void }) {
  const { api, announce } = usePortal();
  const [error, setError] = useState<unknown>(null);
  const act = async (action: 'pause' | 'resume') => {
    setError(null);
    try {
      await api.post(`/v1/subscriptions/${seg(s.id)}/${action}`);
      announce(action === 'pause' ? 'Endpoint paused: events keep queueing.' : 'Endpoint resumed.');
      changed();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div class="controls">
      <a class="button" href={href(['subscriptions', s.id, 'edit'])}>
        Edit
      </a>
      {s.status === 'paused' ? (
        <button type="button" onClick={() => void act('resume')}>
          Resume
        </button>
      ) : (
        <button type="button" onClick={() => void act('pause')} disabled={s.status === 'pending_validation'}>
          Pause
        </button>
      )}
      <ConfirmButton
        label="Delete endpoint"
        confirmLabel="Delete"
        danger
        question="Delete this endpoint? Events queued for it are dropped and nothing more is sent."
        onConfirm={async () => {
          await api.remove(`/v1/subscriptions/${seg(s.id)}`);
          announce('Endpoint deleted.');
          go(['subscriptions']);
        }}
      />
      <ErrorNote error={error} />
    </div>
  );
}

function Overview({ subscription: s }: { subscription: Subscription }) {
  const headers = Object.entries(s.headers);
  const labels = Object.entries(s.labels ?? {});
  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      {s.status === 'pending_validation' && (
        <p class="note">
          Nothing is sent until the endpoint confirms it wants these events: it was sent an OPTIONS request
          and has 5 minutes to answer or to open the callback link it carries.
        </p>
      )}
      {s.status === 'disabled' && (
        <p class="note">
          The endpoint answered 410 Gone, so nothing is sent. Events keep queueing; edit or resume it to send
          again.
        </p>
      )}
      <dl class="facts">
        <dt>Event types</dt>
        <dd>{s.eventTypes.join(', ')}</dd>
        <dt>Subject starts with</dt>
        <dd>{s.subject ?? 'any'}</dd>
        <dt>Categories</dt>
        <dd>{s.categories?.join(', ') ?? 'any'}</dd>
        <dt>Labels</dt>
        <dd>{labels.length ? labels.map(([k, v]) => `${k}=${v}`).join(', ') : 'any'}</dd>
        <dt>Format</dt>
        <dd>{s.format}</dd>
        <dt>Events per request</dt>
        <dd>up to {s.maxBatchSize}</dd>
        <dt>Requests per second</dt>
        <dd>{s.rateLimitPerSecond ?? 'no limit'}</dd>
        <dt>Extra headers</dt>
        <dd>{headers.length ? headers.map(([k]) => k).join(', ') : 'none'}</dd>
        <dt>Description</dt>
        <dd>{s.description ?? '—'}</dd>
        <dt>Created</dt>
        <dd>
          <Time at={s.createdAt} />
        </dd>
        <dt>Changed</dt>
        <dd>
          <Time at={s.updatedAt} />
        </dd>
        <dt>Id</dt>
        <dd>
          <code>{s.id}</code>
        </dd>
      </dl>
      <SecretPanel subscriptionId={s.id} />
    </section>
  );
}

function SecretPanel({ subscriptionId }: { subscriptionId: string }) {
  const { api, readOnly, announce } = usePortal();
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const path = `/v1/subscriptions/${seg(subscriptionId)}/secret`;
  const reveal = async () => {
    setError(null);
    try {
      setSecret((await api.get<{ secret: string }>(path)).secret);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="secret" aria-labelledby="secret-title">
      <h2 id="secret-title">Signing secret</h2>
      <p>
        Every request carries <code>webhook-id</code>, <code>webhook-timestamp</code> and{' '}
        <code>webhook-signature</code> headers (Standard Webhooks): verify them with this secret before
        trusting a request.
      </p>
      {secret === null ? (
        <button type="button" onClick={() => void reveal()}>
          Show secret
        </button>
      ) : (
        <p>
          <code class="secret-value" aria-label="Secret value">
            {secret}
          </code>{' '}
          <button type="button" onClick={() => setSecret(null)}>
            Hide secret
          </button>
        </p>
      )}
      {!readOnly && (
        <>
          <p class="hint" id="rotate-hint">
            Rotating makes a new secret. For 24 hours requests are signed with both the old and the new one
            (two signatures in <code>webhook-signature</code>), so you can switch your verification without
            losing a request; after that only the new one signs.
          </p>
          <ConfirmButton
            label="Rotate secret"
            confirmLabel="Rotate now"
            question="Make a new secret? The current one keeps signing too for the next 24 hours."
            onConfirm={async () => {
              const rotated = await api.post<{ secret: string }>(`${path}/rotate`);
              setSecret(rotated.secret);
              announce('Secret rotated: the old one keeps signing for 24 hours.');
            }}
          />
        </>
      )}
      <ErrorNote error={error} />
    </section>
  );
}
