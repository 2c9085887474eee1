/** Small pieces every view uses: error notes, field wrappers, pagers, times, status words. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';
import type { SubscriptionStatus } from './types';

/** An API error as a sentence, with the details that name no form field. */
export function ErrorNote({ error, id }: { error: unknown; id?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : 'Something went wrong.';
  const details = error instanceof ApiError ? error.details.filter((d) => d.message) : [];
  return (
    <div class="error" role="alert" id={id}>
      <p>{sentence(message)}</p>
      {details.length > 0 && (
        <ul>
          {details.map((d, i) => (
            <li key={i}>{d.path ? `${d.path}: ${d.message ?? ''}` : d.message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The API's messages are lower-case clauses; on the page they read as sentences. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return trimmed;
  const first = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** Messages of a validation error by the form field they name (`eventTypes.0` → `eventTypes`). */
export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(error instanceof ApiError) || error.code !== 'validation_failed') return out;
  for (const d of error.details) {
    const field = (d.path ?? '').split('.')[0] ?? '';
    if (field && d.message) out[field] = out[field] ? `${out[field]}; ${d.message}` : d.message;
  }
  return out;
}

/** A labelled form control with its hint and its error, wired for screen readers. */
export function Field(props: {
  id: string;
  label: string;
  hint?: string;
  error?: string;
  children: (describedBy: string | undefined, invalid: boolean) => ComponentChildren;
}) {
  const described = [props.hint ? `${props.id}-hint` : null, props.error ? `${props.id}-error` : null]
    .filter(Boolean)
    .join(' ');
  return (
    <div class={props.error ? 'field invalid' : 'field'}>
      <label for={props.id}>{props.label}</label>
      {props.children(described || undefined, Boolean(props.error))}
      {props.hint && (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="field-error" id={`${props.id}-error`}>
          {sentence(props.error)}
        </p>
      )}
    </div>
  );
}

/** A time as the reader's locale shows it, with the exact UTC value on hover and for machines. */
export function Time({ at }: { at: string | null }) {
  if (!at) return <span>—</span>;
  const date = new Date(at);
  return (
    <time dateTime={at} title={at}>
      {date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })}
    </time>
  );
}

export const STATUS_WORDS: Record<SubscriptionStatus, string> = {
  pending_validation: 'Waiting for the endpoint to confirm',
  active: 'Active',
  paused: 'Paused',
  disabled: 'Disabled (the endpoint answered 410 Gone)',
};

export function StatusBadge({ status }: { status: SubscriptionStatus }) {
  return <span class={`badge status-${status}`}>{STATUS_WORDS[status]}</span>;
}

/**
 * Previous/next for cursor-paged lists: the cursors of the pages seen so far are kept, so "Previous"
 * goes back without the API paging backwards.
 */
export function usePager(resetKey: string) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  useEffect(() => setCursors([null]), [resetKey]);
  const cursor = cursors[cursors.length - 1] ?? null;
  return {
    cursor,
    page: cursors.length,
    next: (nextCursor: string) => setCursors((c) => [...c, nextCursor]),
    previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
  };
}

export function Pager(props: {
  label: string;
  page: number;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
}) {
  if (props.page === 1 && !props.hasNext) return null;
  return (
    <nav class="pager" aria-label={`${props.label} pages`}>
      <button type="button" onClick={props.onPrevious} disabled={props.page === 1}>
        Previous page
      </button>
      <span>Page {props.page}</span>
      <button type="button" onClick={props.onNext} disabled={!props.hasNext}>
        Next page
      </button>
    </nav>
  );
}

/** Client-side paging of a list the API answers whole (queue, dead letters). */
export function useSlice<T>(items: T[], size: number, resetKey: string) {
  const [page, setPage] = useState(1);
  useEffect(() => setPage(1), [resetKey]);
  const pages = Math.max(1, Math.ceil(items.length / size));
  const current = Math.min(page, pages);
  return {
    items: items.slice((current - 1) * size, current * size),
    pager: {
      page: current,
      hasNext: current < pages,
      onPrevious: () => setPage(Math.max(1, current - 1)),
      onNext: () => setPage(Math.min(pages, current + 1)),
    },
  };
}

/** Loads `load()` on mount and whenever `key` changes; `reload` runs it again. */
export function useLoad<T>(load: () => Promise<T>, key: string) {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [round, setRound] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const mine = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === latest.current && setState({ data, error: null, loading: false }),
      (error: unknown) =>
        mine === latest.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, [key, round]);
  return { ...state, reload: () => setRound((r) => r + 1) };
}

/**
 * A button whose action asks to be confirmed in place (no modal dialog): the first press shows the
 * consequence and two buttons, Confirm and Cancel; focus moves to Confirm.
 */
export function ConfirmButton(props: {
  label: string;
  confirmLabel: string;
  question: string;
  danger?: boolean;
  onConfirm: () => Promise<void>;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <span class="confirm">
        <button type="button" class={props.danger ? 'danger' : ''} onClick={() => setAsking(true)}>
          {props.label}
        </button>
        <ErrorNote error={error} />
      </span>
    );
  }
  return (
    <div class="confirm asking" role="group" aria-label={props.label}>
      <p>{props.question}</p>
      <button
        type="button"
        ref={confirmRef}
        class={props.danger ? 'danger' : 'primary'}
        disabled={busy}
        onClick={() => {
          setBusy(true);
          setError(null);
          props.onConfirm().then(
            () => {
              setBusy(false);
              setAsking(false);
            },
            (err: unknown) => {
              setBusy(false);
              setAsking(false);
              setError(err);
            },
          );
        }}
      >
        {props.confirmLabel}
      </button>
      <button type="button" onClick={() => setAsking(false)} disabled={busy}>
        Cancel
      </button>
    </div>
  );
}
