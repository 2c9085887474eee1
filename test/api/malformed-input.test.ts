import { startTestApp, type TestApp } from '../support/app';
import { capturingLogger, WARN, type LogRecord } from '../support/logs';

const envelope = (code: string) => ({
  error: { code, message: expect.any(String), details: expect.any(Array) },
});

/**
 * Malformed input of any kind answers 4xx with the error body (API.md, Conventions), and the service
 * logs it as a warning at most: a client must not be able to fill the log with errors and stacks.
 */
describe('malformed input', () => {
  const { logger, records } = capturingLogger();
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({}, { logger });
  });
  afterAll(async () => {
    await app.stop();
  });
  beforeEach(() => records.splice(0));
  afterEach(() => {
    const loud = records.filter((r: LogRecord) => r.level > WARN || JSON.stringify(r).includes('"stack"'));
    expect(loud).toEqual([]);
  });

  describe('bad percent-escapes in a path', () => {
    it.each(['/v1/subscriptions/sub_%E0%A4', '/v1/subscriptions/sub_%zz/pause', '/v1/events/%E0%A4'])(
      'answer 400 on %s',
      async (path) => {
        const res = await app.call(path.endsWith('pause') ? 'POST' : 'GET', path);
        expect(res.status).toBe(400);
        expect(res.body).toEqual(envelope('validation_failed'));
      },
    );

    it('answer 400 on the unauthenticated validation callback', async () => {
      const res = await app.call('GET', '/v1/validate/%E0%A4?code=x', { key: null });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(envelope('validation_failed'));
    });

    it('still check the key first', async () => {
      expect((await app.call('GET', '/v1/events/%E0%A4', { key: null })).status).toBe(401);
    });
  });
});
