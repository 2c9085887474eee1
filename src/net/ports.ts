import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { StartupError } from '../lifecycle';

/**
 * Why nothing could listen on `port` now (`EADDRINUSE`, `EACCES`, …), or null when it is free. It
 * listens for a moment and closes, so a later listen may still lose a race; it is a start-up check
 * that turns the common case (a port already taken) into a clear message before anything starts.
 * `host` as the real listener will use it; absent: every interface, as `server.listen(port)` does.
 */
export function listenError(port: number, host?: string): Promise<string | null> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(null)));
  });
}

/** The one-line reason for a listen error code, naming the port and the setting that chose it. */
export function describeListenError(code: string, port: number, setting: string): string {
  if (code === 'EADDRINUSE') return `port ${port} (${setting}) is already in use`;
  if (code === 'EACCES') return `port ${port} (${setting}) may not be used by this user`;
  return `cannot listen on port ${port} (${setting}): ${code}`;
}

/**
 * Runs `listen` (a server start on `port`); a listen error such as EADDRINUSE (the port taken since
 * the early check) becomes a StartupError of one line naming the port and its setting.
 */
export async function explainListen<T>(port: number, setting: string, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      throw new StartupError(describeListenError(code, port, setting), { cause: err });
    }
    throw err;
  }
}

/**
 * Whether process `pid` holds the socket listening on TCP `port` of the loopback address: true or
 * false from Linux's /proc, null where that cannot be told (another OS, no access). Tells our own
 * child's listener from another process's on the same port.
 */
export function holdsLoopbackListener(pid: number, port: number): boolean | null {
  let inodes: Set<string>;
  try {
    inodes = listeningInodes(readFileSync('/proc/net/tcp', 'utf8'), port);
  } catch {
    return null;
  }
  if (inodes.size === 0) return false;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue; // closed meanwhile
      }
      const socket = /^socket:\[(\d+)\]$/.exec(target);
      if (socket && inodes.has(socket[1]!)) return true;
    }
  } catch {
    return null;
  }
  return false;
}

/**
 * Inodes of the sockets in LISTEN state on 127.0.0.1:`port` or 0.0.0.0:`port`, from the text of
 * /proc/net/tcp (addresses are little-endian hex, `0100007F:1C41` for 127.0.0.1:7233; state 0A is
 * LISTEN; the inode is the tenth column).
 */
export function listeningInodes(procNetTcp: string, port: number): Set<string> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const line of procNetTcp.split('\n').slice(1)) {
    const columns = line.trim().split(/\s+/);
    const [, local, , state, , , , , , inode] = columns;
    if (!local || state !== '0A' || inode === undefined) continue;
    if (local === `0100007F:${hexPort}` || local === `00000000:${hexPort}`) inodes.add(inode);
  }
  return inodes;
}
