/**
 * Create or edit an endpoint. Every field the API takes except metadata; a validation error shows
 * next to the field it names, anything else above the buttons.
 */
import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { usePortal } from '../context';
import { go, href } from '../route';
import { FORMATS, type EventType, type Format, type Subscription } from '../types';
import { ErrorNote, Field, fieldErrors, sentence, useLoad } from '../ui';

const FORMAT_WORDS: Record<Format, string> = {
  raw: 'JSON batch (raw)',
  cloudevents: 'CloudEvents batch',
  event: 'One event per request',
  slack: 'Slack message',
  teams: 'Microsoft Teams card',
  googlechat: 'Google Chat message',
};

/** An object as lines (`key=value` for labels, `Name: value` for headers), and back. */
function linesOf(record: Record<string, string> | null, separator: '=' | ': '): string {
  return Object.entries(record ?? {})
    .map(([k, v]) => `${k}${separator}${v}`)
    .join('\n');
}

function recordOf(text: string, separator: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const at = line.indexOf(separator);
    if (at < 0) out[line.trim()] = '';
    else out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

const listOf = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The draft's fields typed as text. */
type TextKey = { [K in keyof Draft]: Draft[K] extends string ? K : never }[keyof Draft];

interface Draft {
  url: string;
  name: string;
  eventTypes: string[];
  patterns: string;
  subject: string;
  categories: string;
  labels: string;
  format: Format;
  maxBatchSize: string;
  headers: string;
  rateLimitPerSecond: string;
  description: string;
  requireValidation: boolean;
}

function draftOf(s: Subscription | null, catalog: string[]): Draft {
  const types = s?.eventTypes ?? [];
  return {
    url: s?.url ?? '',
    name: s?.name ?? '',
    eventTypes: types.filter((t) => catalog.includes(t)),
    patterns: types.filter((t) => !catalog.includes(t)).join(', '),
    subject: s?.subject ?? '',
    categories: (s?.categories ?? []).join(', '),
    labels: linesOf(s?.labels ?? null, '='),
    format: s?.format ?? 'raw',
    maxBatchSize: String(s?.maxBatchSize ?? 100),
    headers: linesOf(s?.headers ?? null, ': '),
    rateLimitPerSecond: s?.rateLimitPerSecond === null || s === null ? '' : String(s.rateLimitPerSecond),
    description: s?.description ?? '',
    requireValidation: s?.requireValidation ?? false,
  };
}

/** What the API is sent. Numbers that do not parse go as they are typed, so the API names them. */
function bodyOf(d: Draft, creating: boolean): Record<string, unknown> {
  const number = (text: string) => (/^\s*-?\d+\s*$/.test(text) ? Number(text) : text);
  const body: Record<string, unknown> = {
    url: d.url.trim(),
    name: d.name.trim() === '' ? null : d.name.trim(),
    eventTypes: [...d.eventTypes, ...listOf(d.patterns)],
    subject: d.subject.trim() === '' ? null : d.subject.trim(),
    categories: listOf(d.categories).length ? listOf(d.categories) : null,
    labels: d.labels.trim() === '' ? null : recordOf(d.labels, '='),
    format: d.format,
    maxBatchSize: number(d.maxBatchSize),
    headers: recordOf(d.headers, ':'),
    rateLimitPerSecond: d.rateLimitPerSecond.trim() === '' ? null : number(d.rateLimitPerSecond),
    description: d.description.trim() === '' ? null : d.description.trim(),
  };
  if (creating) body.requireValidation = d.requireValidation;
  return body;
}

export function SubscriptionForm({ existing }: { existing?: Subscription }) {
  const { api, announce } = usePortal();
  const catalog = useLoad(() => api.get<{ data: EventType[] }>('/v1/event-types'), 'catalog');
  const names = (catalog.data?.data ?? []).filter((t) => !t.archived).map((t) => t.name);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (catalog.loading && !catalog.data) return <p role="status">Loading…</p>;
  const d = draft ?? draftOf(existing ?? null, names);
  const set = (patch: Partial<Draft>) => setDraft({ ...d, ...patch });
  const errors = fieldErrors(error);
  const creating = !existing;

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (creating) {
        const made = await api.post<Subscription>('/v1/subscriptions', bodyOf(d, true));
        announce('Endpoint added.');
        go(['subscriptions', made.id]);
      } else {
        await api.patch<Subscription>(`/v1/subscriptions/${existing.id}`, bodyOf(d, false), existing.version);
        announce('Changes saved.');
        go(['subscriptions', existing.id]);
      }
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const stale = error instanceof ApiError && error.code === 'precondition_failed';
  const other = error && Object.keys(errors).length === 0 ? error : null;

  /** A text field of the draft: its label, hint and the API's message for it. */
  const field = (
    key: TextKey,
    label: string,
    extra: { hint?: string; rows?: number; type?: 'text' | 'url' } = {},
  ) => (
    <Field id={key} label={label} hint={extra.hint} error={errors[key]}>
      {(describedBy, invalid) => {
        const common = {
          id: key,
          value: d[key],
          onInput: (e: Event) => set({ [key]: (e.target as HTMLInputElement).value }),
          'aria-describedby': describedBy,
          'aria-invalid': invalid,
        };
        if (extra.rows) return <textarea rows={extra.rows} {...common} />;
        return extra.type === 'url' ? <input type="url" {...common} /> : <input type="text" {...common} />;
      }}
    </Field>
  );

  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-labelledby="form-title">
      <h1 id="form-title">{creating ? 'Add an endpoint' : `Edit ${existing.name ?? existing.url}`}</h1>
      {field('url', 'Endpoint URL', {
        type: 'url',
        hint: 'Where the events are POSTed: http:// or https://',
      })}
      {field('name', 'Name (optional)')}
      <fieldset
        class={errors.eventTypes ? 'field invalid' : 'field'}
        aria-describedby={errors.eventTypes ? 'eventTypes-error' : undefined}
      >
        <legend>Event types</legend>
        {names.length > 0 ? (
          <div class="checks">
            {names.map((name) => (
              <label key={name} class="check">
                <input
                  type="checkbox"
                  checked={d.eventTypes.includes(name)}
                  onChange={(e) =>
                    set({
                      eventTypes: (e.target as HTMLInputElement).checked
                        ? [...d.eventTypes, name]
                        : d.eventTypes.filter((t) => t !== name),
                    })
                  }
                />
                {name}
              </label>
            ))}
          </div>
        ) : (
          <p class="hint">The catalog lists no event types yet: name them below.</p>
        )}
        {field('patterns', 'Other types or patterns', {
          hint: 'Comma-separated: an exact type, prefix.* for a family, or * for every event.',
        })}
        {errors.eventTypes && (
          <p class="field-error" id="eventTypes-error">
            {sentence(errors.eventTypes)}
          </p>
        )}
      </fieldset>
      <details open={Boolean(errors.subject || errors.categories || errors.labels)}>
        <summary>Filters</summary>
        {field('subject', 'Subject starts with')}
        {field('categories', 'Categories', { hint: 'Comma-separated; empty for all.' })}
        {field('labels', 'Labels', {
          rows: 3,
          hint: 'One key=value a line: only events carrying all of them.',
        })}
      </details>
      <Field id="format" label="Format" error={errors.format}>
        {(describedBy, invalid) => (
          <select
            id="format"
            value={d.format}
            onChange={(e) => set({ format: (e.target as HTMLSelectElement).value as Format })}
            aria-describedby={describedBy}
            aria-invalid={invalid}
          >
            {FORMATS.map((f) => (
              <option key={f} value={f}>
                {FORMAT_WORDS[f]}
              </option>
            ))}
          </select>
        )}
      </Field>
      {field('maxBatchSize', 'Events per request', { hint: '1 to 100 (1 for “One event per request”).' })}
      {field('rateLimitPerSecond', 'Requests per second at most', { hint: 'Empty for no limit.' })}
      {field('headers', 'Extra headers', {
        rows: 3,
        hint: 'One Name: value a line, sent with every request.',
      })}
      {field('description', 'Description (optional)', { rows: 2 })}
      {creating && (
        <label class="check">
          <input
            type="checkbox"
            checked={d.requireValidation}
            onChange={(e) => set({ requireValidation: (e.target as HTMLInputElement).checked })}
          />
          The endpoint must confirm it wants the events first (CloudEvents handshake)
        </label>
      )}
      {stale && (
        <p class="error" role="alert">
          Someone changed this endpoint meanwhile.{' '}
          <a href={href(['subscriptions', existing!.id])}>Reload it</a> and make your change again.
        </p>
      )}
      {!stale && <ErrorNote error={other} />}
      {Object.keys(errors).length > 0 && (
        <p class="error" role="alert">
          Some fields need a change: see the messages next to them.
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {creating ? 'Add endpoint' : 'Save changes'}
        </button>
        <a class="button" href={creating ? href(['subscriptions']) : href(['subscriptions', existing.id])}>
          Cancel
        </a>
      </div>
    </form>
  );
}
