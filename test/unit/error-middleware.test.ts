import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { errorMiddleware } from '../../src/api/app';
import { HttpError } from '../../src/api/errors';
import { capturingLogger, WARN } from '../support/logs';

/** What a route threw, as the error middleware answers it, and what it logged. */
describe('the error middleware', () => {
  const { logger, records } = capturingLogger();
  let thrown: unknown;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    app.get('/throw', () => {
      throw thrown;
    });
    app.use(errorMiddleware(logger));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => records.splice(0));

  async function answer(err: unknown) {
    thrown = err;
    const res = await fetch(`${base}/throw`);
    return { status: res.status, body: (await res.json()) as any };
  }

  it('answers an HttpError as it says, and logs nothing', async () => {
    expect(await answer(HttpError.conflict('taken', [{ id: 'sub_1' }]))).toEqual({
      status: 409,
      body: { error: { code: 'conflict', message: 'taken', details: [{ id: 'sub_1' }] } },
    });
    expect(records).toEqual([]);
  });

  it.each([
    [Object.assign(new Error('nope'), { status: 404 }), 404, 'not_found'],
    [Object.assign(new Error('x'), { statusCode: 413 }), 413, 'payload_too_large'],
    [Object.assign(new Error('x'), { status: 400 }), 400, 'validation_failed'],
    [Object.assign(new Error('x'), { status: 418 }), 418, 'i_m_a_teapot'],
    [{ status: 429 }, 429, 'rate_limited'],
  ])('answers any error that carries a 4xx status with it: %p', async (err, status, code) => {
    const res = await answer(err);
    expect(res).toEqual({ status, body: { error: { code, message: expect.any(String), details: [] } } });
    expect(records.every((r) => r.level <= WARN)).toBe(true);
    expect(JSON.stringify(records)).not.toContain('stack');
  });

  it('shows the message of an http-errors error only when it is marked safe', async () => {
    const exposed = Object.assign(new Error('range not satisfiable here'), { status: 416, expose: true });
    expect((await answer(exposed)).body.error.message).toBe('range not satisfiable here');
    const hidden = Object.assign(new Error('internal detail'), { status: 416 });
    expect((await answer(hidden)).body.error.message).toBe('Range Not Satisfiable');
  });

  it('answers a bare 500 to anything else (a 5xx status included) and logs it as an error', async () => {
    for (const err of [new Error('boom'), Object.assign(new Error('upstream'), { status: 502 }), 'text']) {
      records.splice(0);
      expect(await answer(err)).toEqual({
        status: 500,
        body: { error: { code: 'internal', message: 'internal error', details: [] } },
      });
      expect(records.map((r) => r.level)).toEqual([50]);
    }
  });
});
