import { randomBytes } from 'node:crypto';

/**
 * Ids generated for one publish's events sent without one: `evt_<key: 24 hex>_<index, 2 digits>`.
 * The key is random per publish, or given (the ingress workflow's, so that its activity's retries
 * reuse the same ids and a retry after a partial success queues nothing twice).
 */
export class GeneratedIds {
  private next = 0;

  constructor(readonly key: string = randomBytes(12).toString('hex')) {
    if (!/^[0-9a-f]{24}$/.test(key)) throw new Error('a generated-id key is 24 hex digits');
  }

  newId(): string {
    if (this.next > 99) throw new Error('at most 100 generated ids per publish');
    return `evt_${this.key}_${String(this.next++).padStart(2, '0')}`;
  }
}
