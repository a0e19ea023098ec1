import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. The OS picks it (listen on port 0), so two
 * callers do not get the same one; another process can still take it before the caller binds,
 * which is why servers started on it (e.g. startRedis) retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: the server has no TCP address'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
