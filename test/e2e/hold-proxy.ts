import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through HTTP proxy in front of one upstream (the fake GitHub, the git server) that can
 * hold one request, so a test can kill the process that made it at an exact point of its work:
 * - `request`: the request is never forwarded (the upstream never sees it);
 * - `response`: it is forwarded and fully served, but the answer never reaches the client (the
 *   upstream did the work, the client never learns that it did).
 * Everything else, and everything after the hold, passes through unchanged.
 */
export interface HoldProxy {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT` */
  host: string;
  /** Holds the next request `matches` accepts; resolves once it is held. */
  holdOnce(matches: (method: string, path: string) => boolean, at: 'request' | 'response'): Promise<void>;
  close(): Promise<void>;
}

interface Hold {
  matches(method: string, path: string): boolean;
  at: 'request' | 'response';
  held(): void;
}

export async function startHoldProxy(upstream: string): Promise<HoldProxy> {
  const target = new URL(upstream);
  let hold: Hold | undefined;
  const parked: ServerResponse[] = [];

  const forward = (req: IncomingMessage, res: ServerResponse, deliver: boolean, done: () => void) => {
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        if (!deliver) {
          answer.resume();
          answer.on('end', done);
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const server = createServer((req, res) => {
    const current = hold;
    if (current?.matches(req.method ?? 'GET', req.url ?? '/')) {
      hold = undefined;
      parked.push(res);
      if (current.at === 'request') {
        req.resume();
        current.held();
      } else {
        forward(req, res, false, current.held);
      }
      return;
    }
    forward(req, res, true, () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    holdOnce(matches, at) {
      return new Promise<void>((held) => {
        hold = { matches, at, held };
      });
    },
    async close() {
      for (const res of parked) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
