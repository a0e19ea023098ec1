// Sends planned webhook deliveries from a process of its own, so the client's HTTP work does not
// share Forge's event loop and inflate the latencies it measures. Input: a JSON file with
// { url, concurrency, deliveries: [{ headers, body }] }; output: JSON [{ ms, status }] on stdout.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const { url, concurrency, deliveries } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

function post(delivery) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...delivery.headers, 'Content-Length': Buffer.byteLength(delivery.body) },
        timeout: 10_000,
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('webhook request timed out')));
    req.on('error', reject);
    req.end(delivery.body);
  });
}

const out = [];
for (let start = 0; start < deliveries.length; start += concurrency) {
  const wave = deliveries.slice(start, start + concurrency);
  out.push(
    ...(await Promise.all(
      wave.map(async (d) => {
        const started = performance.now();
        const status = await post(d);
        return { ms: performance.now() - started, status };
      }),
    )),
  );
}
agent.destroy();
process.stdout.write(JSON.stringify(out));
