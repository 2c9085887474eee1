/** The consumer portal: a page a tenant hands its customers to manage their webhook endpoints. */
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { createApi, type Session } from './api';
import { Portal } from './context';
import { href, useRoute, type Route } from './route';
import { forgetToken, takeToken } from './session';
import { ErrorNote, sentence, Time } from './ui';
import { EventTypesView } from './views/event-types';
import { EventView } from './views/event';
import { SubscriptionForm } from './views/subscription-form';
import { SubscriptionList } from './views/subscriptions';
import { SubscriptionView } from './views/subscription';

function App({ token }: { token: string | null }) {
  const [ended, setEnded] = useState<string | null>(token ? null : 'no-token');
  const [session, setSession] = useState<Session | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const api = useMemo(() => createApi(token ?? '', (message) => setEnded(message)), [token]);
  const route = useRoute();

  useEffect(() => {
    if (!token) return;
    api.session().then(setSession, setFailure);
  }, [api, token]);

  // The link stops working at expiresAt: say so then, not at the next click.
  useEffect(() => {
    if (!session?.expiresAt) return;
    const left = Date.parse(session.expiresAt) - Date.now();
    const timer = setTimeout(
      () => setEnded('the portal session expired'),
      Math.max(0, Math.min(left, 2 ** 31 - 1)),
    );
    return () => clearTimeout(timer);
  }, [session]);

  useEffect(() => {
    if (ended) forgetToken();
  }, [ended]);

  if (ended) return <Ended reason={ended} />;
  if (!session) {
    return (
      <main class="page">
        {failure ? <ErrorNote error={failure} /> : <p role="status">Opening your webhooks portal…</p>}
      </main>
    );
  }
  const context = { api, readOnly: session.access === 'read-only', announce: setNotice };
  return (
    <Portal.Provider value={context}>
      <header class="top">
        <a class="brand" href={href(['subscriptions'])}>
          Webhooks
        </a>
        <nav aria-label="Portal">
          <a href={href(['subscriptions'])} aria-current={isSubscriptions(route) ? 'page' : undefined}>
            Endpoints
          </a>
          <a href={href(['event-types'])} aria-current={route.view === 'event-types' ? 'page' : undefined}>
            Event types
          </a>
        </nav>
        <p class="session">
          {context.readOnly && <span class="badge read-only">Read-only</span>} Link valid until{' '}
          <Time at={session.expiresAt} />
        </p>
      </header>
      <p class="notice" role="status" aria-live="polite">
        {notice}
      </p>
      <Page route={route} />
    </Portal.Provider>
  );
}

const isSubscriptions = (route: Route) => route.view !== 'event-types';

function Page({ route }: { route: Route }) {
  const heading = useRef<HTMLElement>(null);
  // A new place: move focus to the main region, as a page load would, so screen readers read it.
  useEffect(() => heading.current?.focus(), [route]);
  return (
    <main class="page" ref={heading} tabIndex={-1}>
      {route.view === 'subscriptions' && <SubscriptionList />}
      {route.view === 'new' && <SubscriptionForm />}
      {route.view === 'subscription' && <SubscriptionView id={route.id} tab={route.tab} />}
      {route.view === 'event' && <EventView subscriptionId={route.id} eventId={route.eventId} />}
      {route.view === 'event-types' && <EventTypesView />}
      {route.view === 'missing' && (
        <>
          <h1>Not found</h1>
          <p>
            This page does not exist. <a href={href(['subscriptions'])}>Go to your endpoints</a>.
          </p>
        </>
      )}
    </main>
  );
}

function Ended({ reason }: { reason: string }) {
  const expired = /expired/i.test(reason);
  return (
    <main class="page ended" tabIndex={-1}>
      <h1>
        {reason === 'no-token'
          ? 'Open the portal with your link'
          : expired
            ? 'This link has expired'
            : 'This link does not work'}
      </h1>
      {reason === 'no-token' ? (
        <p>This page opens with the link you were given; the link carries your access.</p>
      ) : (
        <>
          <p>{expired ? 'Portal links work for a limited time.' : sentence(reason)}</p>
          <p>Ask the team that sent it to you for a new link.</p>
        </>
      )}
    </main>
  );
}

render(<App token={takeToken()} />, document.getElementById('app')!);
