import type { Post } from './receiver';

/** Figures of one subscription, or of all of them summed. */
export interface Figures {
  /** Deliveries owed: accepted events × the subscriptions they were routed to. */
  expected: number;
  /** Events acknowledged by the receiver (a 2xx written out), each counted once. */
  delivered: number;
  /** Events given up on by the 7-day rule (dead letters). */
  dead: number;
  /** POSTs the receiver got. */
  posts: number;
  /** POSTs answered with anything but a complete 2xx (failed attempts). */
  failedPosts: number;
  /** 2xx-answered POSTs beyond the first of their batch: whole batches sent again. */
  duplicatePosts: number;
  /** Events in those duplicate POSTs. */
  duplicateEvents: number;
}

export interface Verdict {
  /** Empty when every guarantee held. Each entry names the subscription and what broke. */
  violations: string[];
  total: Figures;
  bySubscription: Record<string, Figures>;
  /** ms since the epoch of the last first acknowledgement of an event (null when none). */
  lastDeliveryAt: number | null;
}

const ok = (p: Post) => p.answered !== null && p.answered >= 200 && p.answered < 300;

/**
 * What was accepted, checked against what the receiver got. The guarantees of issue #8:
 * - every accepted event is delivered to every subscription it was routed to (or dead-lettered);
 * - per subscription, first deliveries come in publish order, each event in exactly one batch;
 * - duplicates only as whole batches re-sent with the same `webhook-id` (same msg id ⇒ same events),
 *   and never after a later batch of that subscription has started.
 *
 * Publish order is the order of `accept` calls within one stream: a producer calls it once per 202,
 * and sends its next request only after that answer, so a producer's acceptance order is its publish
 * order. Producers that run one after another share one stream (the default), so their order holds
 * across them; concurrent producers each need a stream of their own, because two requests in flight
 * at once may commit in either order: the order checked is then each stream's, per subscription.
 */
export class Ledger {
  /** Per subscription: accepted event ids, in publish order. */
  private readonly owed = new Map<string, string[]>();
  private readonly owedSets = new Map<string, Set<string>>();
  /** Every accepted event id, in acceptance order. */
  readonly accepted: string[] = [];
  /** The stream of each accepted event id (see the class comment). */
  private readonly streamOf = new Map<string, string>();

  /** Registers events answered 202, each owed to `subscriptionIds`, in `stream`'s order. */
  accept(eventIds: readonly string[], subscriptionIds: readonly string[], stream = ''): void {
    for (const id of eventIds) {
      this.accepted.push(id);
      this.streamOf.set(id, stream);
      for (const sub of subscriptionIds) {
        let set = this.owedSets.get(sub);
        if (!set) {
          set = new Set();
          this.owedSets.set(sub, set);
          this.owed.set(sub, []);
        }
        // A retried publish of the same id (after a lost answer) owes it once.
        if (set.has(id)) continue;
        set.add(id);
        this.owed.get(sub)!.push(id);
      }
    }
  }

  /** Deliveries still owed: accepted, not yet acknowledged by the receiver. */
  outstanding(posts: readonly Post[]): number {
    const acked = new Map<string, Set<string>>();
    for (const p of posts) {
      if (!ok(p)) continue;
      let set = acked.get(p.subscriptionId);
      if (!set) acked.set(p.subscriptionId, (set = new Set()));
      for (const id of p.eventIds) set.add(id);
    }
    let left = 0;
    for (const [sub, ids] of this.owed) {
      const set = acked.get(sub);
      for (const id of ids) if (!set?.has(id)) left++;
    }
    return left;
  }

  /**
   * Checks every guarantee. `dead` holds `subscriptionId/eventId` keys of dead letters (read from the
   * API), which count as settled instead of delivered.
   */
  check(posts: readonly Post[], dead: ReadonlySet<string> = new Set()): Verdict {
    const violations: string[] = [];
    const bySubscription: Record<string, Figures> = {};
    let lastDeliveryAt: number | null = null;

    const postsBySub = new Map<string, Post[]>();
    for (const p of posts) {
      if (p.webhookId === '' || p.webhookId !== p.bodyId) {
        violations.push(
          `POST ${p.path}: webhook-id "${p.webhookId}" differs from the body's id "${p.bodyId}"`,
        );
      }
      if (!this.owed.has(p.subscriptionId)) {
        violations.push(`POST ${p.path}: unknown subscription "${p.subscriptionId}"`);
        continue;
      }
      const list = postsBySub.get(p.subscriptionId) ?? [];
      list.push(p);
      postsBySub.set(p.subscriptionId, list);
    }

    for (const [sub, owed] of this.owed) {
      const list = postsBySub.get(sub) ?? [];
      const f: Figures = {
        expected: owed.length,
        delivered: 0,
        dead: 0,
        posts: list.length,
        failedPosts: 0,
        duplicatePosts: 0,
        duplicateEvents: 0,
      };
      bySubscription[sub] = f;

      // Batches in order of first appearance; same msg id ⇒ same event list; no return to a batch
      // once a later one started.
      const batches: { msgId: string; eventIds: string[]; acked: boolean }[] = [];
      const byMsg = new Map<string, (typeof batches)[number]>();
      for (const p of list) {
        let batch = byMsg.get(p.webhookId);
        if (!batch) {
          batch = { msgId: p.webhookId, eventIds: p.eventIds, acked: false };
          byMsg.set(p.webhookId, batch);
          batches.push(batch);
        } else {
          if (batch.eventIds.join('\n') !== p.eventIds.join('\n')) {
            violations.push(`${sub}: ${p.webhookId} re-sent with a different event list`);
          }
          if (batches[batches.length - 1] !== batch) {
            violations.push(`${sub}: ${p.webhookId} re-sent after a later batch had started`);
          }
        }
        if (ok(p)) {
          if (batch.acked) {
            f.duplicatePosts++;
            f.duplicateEvents += p.eventIds.length;
          } else {
            batch.acked = true;
            f.delivered += p.eventIds.length;
            lastDeliveryAt = Math.max(lastDeliveryAt ?? 0, p.at);
          }
        } else {
          f.failedPosts++;
        }
      }

      // First deliveries in publish order (per stream), each event once, nothing that was not accepted.
      const sent = batches.flatMap((b) => b.eventIds);
      const owedSet = new Set(owed);
      const seen = new Set<string>();
      for (const id of sent) {
        if (!owedSet.has(id)) violations.push(`${sub}: received ${id}, which was never accepted for it`);
        else if (seen.has(id)) violations.push(`${sub}: ${id} sent in two different batches`);
        seen.add(id);
      }
      const sentOwed = this.byStream(sent.filter((id) => owedSet.has(id)));
      const owedSent = this.byStream(owed.filter((id) => seen.has(id)));
      for (const [stream, expected] of owedSent) {
        const got = sentOwed.get(stream) ?? [];
        const firstMisorder = expected.findIndex((id, i) => got[i] !== id);
        if (firstMisorder !== -1) {
          violations.push(
            `${sub}: out of publish order${stream ? ` of ${stream}` : ''} at position ${firstMisorder}: got ${got[firstMisorder]}, expected ${expected[firstMisorder]}`,
          );
        }
      }

      // Every owed event acknowledged, or a dead letter.
      const acked = new Set(batches.filter((b) => b.acked).flatMap((b) => b.eventIds));
      const missing: string[] = [];
      for (const id of owed) {
        if (acked.has(id)) continue;
        if (dead.has(`${sub}/${id}`)) f.dead++;
        else missing.push(id);
      }
      if (missing.length > 0) {
        violations.push(
          `${sub}: ${missing.length} accepted events neither delivered nor dead-lettered (first: ${missing.slice(0, 5).join(', ')})`,
        );
      }
    }

    const total = Object.values(bySubscription).reduce<Figures>(
      (sum, f) => {
        for (const key of Object.keys(sum) as (keyof Figures)[]) sum[key] += f[key];
        return sum;
      },
      {
        expected: 0,
        delivered: 0,
        dead: 0,
        posts: 0,
        failedPosts: 0,
        duplicatePosts: 0,
        duplicateEvents: 0,
      },
    );
    return { violations, total, bySubscription, lastDeliveryAt };
  }

  /** `ids` split by stream, each keeping its order. */
  private byStream(ids: readonly string[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const id of ids) {
      const stream = this.streamOf.get(id) ?? '';
      const list = out.get(stream) ?? [];
      list.push(id);
      out.set(stream, list);
    }
    return out;
  }

  /**
   * ms since the epoch when every one of `eventIds` had been acknowledged at least once by every
   * subscription it is owed to; null while one is outstanding.
   */
  settledAt(posts: readonly Post[], eventIds: readonly string[]): number | null {
    const want = new Set(eventIds);
    const firstAck = new Map<string, number>();
    for (const p of posts) {
      if (!ok(p)) continue;
      for (const id of p.eventIds) {
        if (!want.has(id)) continue;
        const key = `${p.subscriptionId}/${id}`;
        if (!firstAck.has(key)) firstAck.set(key, p.at);
      }
    }
    let last = 0;
    for (const sub of this.owed.keys()) {
      const owedHere = this.owedSets.get(sub)!;
      for (const id of eventIds) {
        if (!owedHere.has(id)) continue;
        const at = firstAck.get(`${sub}/${id}`);
        if (at === undefined) return null;
        last = Math.max(last, at);
      }
    }
    return last;
  }
}
