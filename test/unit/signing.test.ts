import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import {
  activeSecrets,
  generateSecret,
  parseSecret,
  rotateSecrets,
  sign,
  type SignInput,
} from '../../src/delivery/signing';
import type { SigningSecret } from '../../src/domain/types';

const HOUR_MS = 3_600_000;
const body = '{"id":"msg_1","subscriptionId":"sub_1","events":[{"id":"evt_1","data":{"note":"café"}}]}';

/** A delivery signed now (the verifier refuses timestamps more than 5 minutes away). */
function deliver(secrets: string[], msgId = 'msg_2Ot5KqAbCdEf') {
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign({ msgId, timestamp, body, secrets }),
  };
  return { headers, body };
}

const verifies = (secret: string, delivery: ReturnType<typeof deliver>) => {
  try {
    new Webhook(secret).verify(delivery.body, delivery.headers);
    return true;
  } catch (err) {
    if (err instanceof WebhookVerificationError) return false;
    throw err;
  }
};

describe('generating a secret', () => {
  it('is whsec_ + base64 of 32 random bytes by default', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(parseSecret(secret)).toHaveLength(32);
  });

  it.each([24, 64])('takes %i bytes, an end of the allowed range', (bytes) => {
    expect(parseSecret(generateSecret(bytes))).toHaveLength(bytes);
  });

  it.each([0, 23, 65, 32.5, Number.NaN])('refuses %p bytes', (bytes) => {
    expect(() => generateSecret(bytes)).toThrow(RangeError);
  });

  it('never repeats itself', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => generateSecret()));
    expect(secrets.size).toBe(50);
  });
});

describe('parsing a secret', () => {
  it('decodes the base64 after the whsec_ prefix', () => {
    const key = Buffer.alloc(24, 7);
    expect(parseSecret(`whsec_${key.toString('base64')}`)).toEqual(key);
  });

  it.each([
    ['no prefix', Buffer.alloc(32).toString('base64'), /must start with "whsec_"/],
    ['nothing after the prefix', 'whsec_', /not valid base64/],
    ['characters outside base64', `whsec_${'A'.repeat(31)}!`, /not valid base64/],
    ['base64url characters', `whsec_${'-'.repeat(32)}`, /not valid base64/],
    [
      'missing padding',
      `whsec_${Buffer.alloc(32).toString('base64').replace(/=+$/, '')}`,
      /not valid base64/,
    ],
    ['non-zero trailing bits', `whsec_${'A'.repeat(42)}B=`, /not valid base64/],
    ['too few bytes', `whsec_${Buffer.alloc(23).toString('base64')}`, /23 bytes, expected 24\.\.64/],
    ['too many bytes', `whsec_${Buffer.alloc(65).toString('base64')}`, /65 bytes, expected 24\.\.64/],
  ])('refuses a secret with %s', (_what, secret, message) => {
    expect(() => parseSecret(secret)).toThrow(message);
  });

  it('does not quote the secret in its error', () => {
    const secret = `whsec_${Buffer.alloc(16, 1).toString('base64')}`;
    expect(() => parseSecret(secret)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(secret.slice(6)) }),
    );
  });
});

describe('signing', () => {
  it('matches the Standard Webhooks example signature', () => {
    expect(
      sign({
        msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        timestamp: 1614265330,
        body: '{"test": 2432232314}',
        secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      }),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('a delivery signed with one secret verifies with a Standard Webhooks library', () => {
    const secret = generateSecret();
    const delivery = deliver([secret]);
    expect(delivery.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(delivery.body, delivery.headers)).toEqual(JSON.parse(body));
  });

  it('a delivery does not verify with another secret, or when the body, id or timestamp changed', () => {
    const secret = generateSecret();
    const delivery = deliver([secret]);
    expect(verifies(generateSecret(), delivery)).toBe(false);
    expect(verifies(secret, { ...delivery, body: body.replace('café', 'cafe') })).toBe(false);
    expect(
      verifies(secret, { ...delivery, headers: { ...delivery.headers, 'webhook-id': 'msg_other' } }),
    ).toBe(false);
    const earlier = String(Number(delivery.headers['webhook-timestamp']) - 1);
    expect(
      verifies(secret, { ...delivery, headers: { ...delivery.headers, 'webhook-timestamp': earlier } }),
    ).toBe(false);
  });

  it('signs with several secrets as space-separated signatures in the given order', () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const input: SignInput = { msgId: 'msg_1', timestamp: 1_700_000_000, body, secrets: [a, b] };
    expect(sign(input)).toBe(`${sign({ ...input, secrets: [a] })} ${sign({ ...input, secrets: [b] })}`);
  });

  it('refuses to sign without a secret', () => {
    expect(() => sign({ msgId: 'msg_1', timestamp: 1_700_000_000, body, secrets: [] })).toThrow(
      'without a signing secret',
    );
  });

  it.each([1_700_000_000_000, 1_700_000_000.5, -1])(
    'refuses timestamp %p: it must be whole unix seconds',
    (ts) => {
      expect(() => sign({ msgId: 'msg_1', timestamp: ts, body, secrets: [generateSecret()] })).toThrow(
        RangeError,
      );
    },
  );
});

describe('signing across a secret rotation', () => {
  const created = new Date('2026-11-22T10:00:00Z');
  const rotatedAt = new Date('2026-11-23T08:00:00Z');
  const oldSecret = generateSecret();
  const newSecret = generateSecret();
  const rotated = rotateSecrets([{ secret: oldSecret, expiresAt: null }], rotatedAt, newSecret);

  it('makes the new secret current and keeps the old one for 24 hours', () => {
    expect(rotated).toEqual([
      { secret: newSecret, expiresAt: null },
      { secret: oldSecret, expiresAt: '2026-11-24T08:00:00.000Z' },
    ]);
  });

  it('signs with the current secret alone before any rotation', () => {
    expect(activeSecrets([{ secret: oldSecret, expiresAt: null }], created)).toEqual([oldSecret]);
  });

  it('during the overlap sends two signatures, and each secret alone verifies the delivery', () => {
    const secrets = activeSecrets(rotated, new Date(rotatedAt.getTime() + 23 * HOUR_MS));
    expect(secrets).toEqual([newSecret, oldSecret]);
    const delivery = deliver(secrets);
    expect(delivery.headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verifies(newSecret, delivery)).toBe(true);
    expect(verifies(oldSecret, delivery)).toBe(true);
  });

  it('after 24 hours signs with the new secret only, and the old one no longer verifies', () => {
    const secrets = activeSecrets(rotated, new Date(rotatedAt.getTime() + 24 * HOUR_MS));
    expect(secrets).toEqual([newSecret]);
    const delivery = deliver(secrets);
    expect(verifies(newSecret, delivery)).toBe(true);
    expect(verifies(oldSecret, delivery)).toBe(false);
  });

  it('a second rotation within the overlap keeps both older secrets until each one expires', () => {
    const third = generateSecret();
    const again = new Date(rotatedAt.getTime() + 2 * HOUR_MS);
    const twice: SigningSecret[] = rotateSecrets(rotated, again, third);
    expect(activeSecrets(twice, again)).toEqual([third, newSecret, oldSecret]);
    expect(activeSecrets(twice, new Date(rotatedAt.getTime() + 25 * HOUR_MS))).toEqual([third, newSecret]);
  });

  it('drops secrets that have already expired when rotating', () => {
    const later = new Date(rotatedAt.getTime() + 48 * HOUR_MS);
    const third = generateSecret();
    expect(rotateSecrets(rotated, later, third)).toEqual([
      { secret: third, expiresAt: null },
      { secret: newSecret, expiresAt: '2026-11-26T08:00:00.000Z' },
    ]);
  });
});
