/**
 * The provider side of bench/gateway.ts, in a process of its own so its writes do not queue
 * behind the gateway's work on one event loop (a real provider is on another machine).
 *
 * Serves the recorded bodies in test/fixtures/model-streams, with their middle events repeated
 * until a body is about TARGET_BYTES (a typical agent step's response), one event per write, each
 * on a later tick, the way a provider flushes events as the model produces them. Prints
 * `PORT <n>` when listening.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const TARGET_BYTES = Number(process.env.TARGET_BYTES || 16_384);
const dir = new URL('../test/fixtures/model-streams/', import.meta.url);

function grow(file) {
  const text = readFileSync(new URL(file, dir), 'utf8');
  const events = text.split(/(?<=\r?\n\r?\n)/).filter(Boolean);
  // The first event opens the response, the last one or two carry usage and the end.
  const tailLength = events.length >= 4 ? 2 : 1;
  const head = events.slice(0, 1);
  const middle = events.slice(1, events.length - tailLength);
  const tail = events.slice(events.length - tailLength);
  if (middle.length === 0) throw new Error(`${file}: nothing to repeat`);
  const body = [...head];
  let size = Buffer.byteLength(text);
  while (size < TARGET_BYTES) {
    for (const e of middle) {
      body.push(e);
      size += Buffer.byteLength(e);
    }
  }
  return [...body, ...tail].map((e) => Buffer.from(e, 'utf8'));
}

const bodies = {
  '/anthropic/v1/messages': grow('anthropic-messages.sse'),
  '/openai/v1/responses': grow('openai-responses.sse'),
  '/openai/v1/chat/completions': grow('openai-chat.sse'),
  '/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent': grow('gemini.sse'),
};

const tick = () => new Promise((resolve) => setImmediate(resolve));

const server = createServer(async (req, res) => {
  for await (const _ of req) {
    // Drain the request body, as a provider reads the whole prompt first.
  }
  const chunks = bodies[new URL(req.url, 'http://x').pathname];
  if (!chunks) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  for (const chunk of chunks) {
    res.write(chunk);
    await tick();
  }
  res.end();
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
