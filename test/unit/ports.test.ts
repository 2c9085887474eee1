import { createServer, type Server } from 'node:net';
import express from 'express';
import { listen } from '../../src/api/app';
import { StartupError } from '../../src/lifecycle';
import {
  describeListenError,
  explainListen,
  holdsLoopbackListener,
  listenError,
  listeningInodes,
} from '../../src/net/ports';

describe('ports', () => {
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it('tell a taken port from a free one, on loopback and on every interface', async () => {
    expect(await listenError(port, '127.0.0.1')).toBe('EADDRINUSE');
    expect(await listenError(port)).toBe('EADDRINUSE');
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const freePort = (free.address() as { port: number }).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    expect(await listenError(freePort, '127.0.0.1')).toBeNull();
  });

  it('name the port and its setting in one line', () => {
    expect(describeListenError('EADDRINUSE', 3000, 'PORT')).toBe('port 3000 (PORT) is already in use');
  });

  it('turn the listen error of a server start into that line', async () => {
    const start = explainListen(port, 'PORT', () =>
      listen(express(), port, { requestTimeoutMs: 1_000, headersTimeoutMs: 1_000 }),
    );
    await expect(start).rejects.toThrow(StartupError);
    await expect(start).rejects.toThrow(`port ${port} (PORT) is already in use`);
  });

  it('tell which process holds a loopback listener', () => {
    if (process.platform !== 'linux') return;
    expect(holdsLoopbackListener(process.pid, port)).toBe(true);
    expect(holdsLoopbackListener(process.ppid, port)).toBe(false);
  });

  it('read LISTEN sockets of 127.0.0.1 and 0.0.0.0 from /proc/net/tcp', () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1C41 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0',
      '   1: 00000000:1C41 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0',
      '   2: 0100007F:1C41 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0',
      '   3: 0100007F:1C42 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 444 1 0',
    ].join('\n');
    expect([...listeningInodes(table, 7233)]).toEqual(['111', '222']);
  });
});
