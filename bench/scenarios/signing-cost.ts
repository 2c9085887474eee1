/**
 * What signing and formatting cost per batch of 100 events, per format: formatBatch + sign (one
 * secret, and two as during a rotation), in this process, no I/O. The delivery activity pays this once
 * per attempt.
 */
import { formatBatch } from '../../src/delivery/formats';
import { generateSecret, sign } from '../../src/delivery/signing';
import { FORMATS } from '../../src/domain/types';
import { nowMs } from '../receiver';
import { log, makeEvents, type CaseResult, type Scenario } from '../support';

export const signingCost: Scenario = ({ quick }) => {
  const iterations = quick ? 500 : 3_000;
  const events = makeEvents('sign', 0, 100);
  const results: CaseResult[] = [];
  for (const secrets of [[generateSecret()], [generateSecret(), generateSecret()]]) {
    for (const format of FORMATS) {
      const label = `${format}, batch 100, ${secrets.length} secret${secrets.length > 1 ? 's' : ''}`;
      log(`signing-cost: ${label}`);
      let bytes = 0;
      const started = nowMs();
      for (let i = 0; i < iterations; i++) {
        const { body } = formatBatch({
          format,
          msgId: `msg_${i}`,
          subscriptionId: 'sub_bench',
          maxBatchSize: 100,
          events,
          version: 'bench',
        });
        sign({ msgId: `msg_${i}`, timestamp: 1_795_000_000 + i, body, secrets });
        bytes = body.length;
      }
      const seconds = (nowMs() - started) / 1000;
      results.push({
        scenario: 'signing-cost',
        case: label,
        params: { format, batch: 100, secrets: secrets.length, iterations },
        events: iterations * 100,
        eventsPerSec: Math.round((iterations * 100) / seconds),
        opsPerSec: Math.round(iterations / seconds),
        wallSec: Math.round(seconds * 10) / 10,
        extra: { usPerBatch: Math.round((seconds * 1e6) / iterations), bodyBytes: bytes },
      });
    }
  }
  return Promise.resolve(results);
};
