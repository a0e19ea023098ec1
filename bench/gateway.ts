/**
 * `npx tsx bench/gateway.ts`: what the model gateway adds to a streamed model response.
 *
 * A provider stand-in (bench/gateway-upstream.mjs, its own process) streams recorded responses
 * of each protocol, grown to about 16 KB and written event by event. The same requests (a
 * ~150 KB prompt, like a mid-conversation agent step) go alternately straight to it and through
 * the gateway (token check, admission, key swap, forwarding, usage metering), one at a time over
 * keep-alive connections. Time to first byte and to the end of the body are measured by the
 * client; the gateway's overhead is the difference between the two paths.
 *
 * BENCH_RESPONSES (default 300 per protocol and path), TARGET_BYTES (response size).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { startModelGateway } from '../src/gateway/server.js';
import type { TurnGrant } from '../src/gateway/types.js';
import { ms, summarize, table } from './stats.js';

const N = Number(process.env.BENCH_RESPONSES || 300);
const WARMUP = 30;
const log = (line: string) => process.stdout.write(`${line}\n`);

const child = spawn(process.execPath, [join(import.meta.dirname, 'gateway-upstream.mjs')], {
  stdio: ['pipe', 'pipe', 'inherit'],
  env: { ...process.env },
});
const upstreamPort = await new Promise<number>((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`upstream exited ${code}`)));
  child.stdout.on('data', (d: Buffer) => {
    const m = /PORT (\d+)/.exec(d.toString());
    if (m) resolve(Number(m[1]));
  });
});
const upstream = `http://127.0.0.1:${upstreamPort}`;
const key = `sk-bench-${'k'.repeat(40)}`;
const gateway = await startModelGateway({
  host: '127.0.0.1',
  port: 0,
  upstreams: {
    anthropic: { baseUrl: `${upstream}/anthropic`, apiKey: key },
    openai: { baseUrl: `${upstream}/openai/v1`, apiKey: key },
    gemini: { baseUrl: `${upstream}/gemini`, apiKey: key },
  },
});
const grant: TurnGrant = gateway.grant({ taskId: 'bench', turn: 1, admit: () => undefined });
const token = grant.access.token;

// A mid-conversation prompt: instructions, tool schemas, earlier turns (~150 KB).
const history = Array.from({ length: 60 }, (_, i) => ({
  role: i % 2 ? 'assistant' : 'user',
  content: `Step ${i}: ${'The test output and the file contents the agent read. '.repeat(45)}`,
}));
interface Case {
  name: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}
const cases: Case[] = [
  {
    name: 'Anthropic Messages (Claude Code)',
    path: '/anthropic/v1/messages?beta=true',
    headers: { 'x-api-key': token, 'anthropic-version': '2023-06-01' },
    body: Buffer.from(
      JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 32000, stream: true, messages: history }),
    ),
  },
  {
    name: 'OpenAI Responses (Codex)',
    path: '/openai/v1/responses',
    headers: { authorization: `Bearer ${token}` },
    body: Buffer.from(JSON.stringify({ model: 'gpt-5.1-codex-max', stream: true, input: history })),
  },
  {
    name: 'Chat Completions (OpenCode)',
    path: '/openai/v1/chat/completions',
    headers: { authorization: `Bearer ${token}` },
    body: Buffer.from(JSON.stringify({ model: 'gpt-4.1-mini', stream: true, messages: history })),
  },
  {
    name: 'Gemini (Gemini CLI)',
    path: '/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    headers: { 'x-goog-api-key': token },
    body: Buffer.from(
      JSON.stringify({
        contents: history.map((m) => ({
          role: m.role === 'user' ? 'user' : 'model',
          parts: [{ text: m.content }],
        })),
      }),
    ),
  },
];

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function once(base: string, c: Case): Promise<{ ttfb: number; total: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let ttfb = 0;
    let bytes = 0;
    const req = http.request(`${base}${c.path}`, {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        'content-length': String(c.body.byteLength),
        ...c.headers,
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      if (res.statusCode !== 200) reject(new Error(`${base}${c.path}: ${res.statusCode}`));
      res.on('data', (chunk: Buffer) => {
        if (bytes === 0) ttfb = performance.now() - started;
        bytes += chunk.byteLength;
      });
      res.on('end', () => resolve({ ttfb, total: performance.now() - started, bytes }));
      res.on('error', reject);
    });
    req.end(c.body);
  });
}

log(`gateway bench: ${N} streamed responses per protocol and path (after ${WARMUP} warm-up), one at a time`);
const rows: string[][] = [['protocol', 'path', 'resp. KB', 'TTFB p50', 'TTFB p95', 'total p50', 'total p95']];
const overhead: string[][] = [
  ['protocol', 'TTFB +p50', 'TTFB +p95', 'total +p50', 'total +p95', 'usage metered'],
];
for (const c of cases) {
  const direct = { ttfb: [] as number[], total: [] as number[] };
  const via = { ttfb: [] as number[], total: [] as number[] };
  let bytes = 0;
  const requestsBefore = grant.usage().requests;
  for (let i = 0; i < WARMUP + N; i++) {
    // Alternate the paths so drift (other processes on the machine) hits both alike.
    const d = await once(upstream, c);
    const g = await once(gateway.url, c);
    if (d.bytes !== g.bytes)
      throw new Error(`${c.name}: ${d.bytes} bytes direct, ${g.bytes} through the gateway`);
    bytes = g.bytes;
    if (i < WARMUP) continue;
    direct.ttfb.push(d.ttfb);
    direct.total.push(d.total);
    via.ttfb.push(g.ttfb);
    via.total.push(g.total);
  }
  const [dt, dT, gt, gT] = [direct.ttfb, direct.total, via.ttfb, via.total].map((v) => summarize(v));
  const p95 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.ceil(0.95 * v.length) - 1]!;
  const kb = (bytes / 1024).toFixed(1);
  rows.push([c.name, 'direct', kb, ms(dt!.p50), ms(p95(direct.ttfb)), ms(dT!.p50), ms(p95(direct.total))]);
  rows.push(['', 'gateway', kb, ms(gt!.p50), ms(p95(via.ttfb)), ms(gT!.p50), ms(p95(via.total))]);
  const metered = grant.usage().requests - requestsBefore;
  overhead.push([
    c.name,
    ms(gt!.p50 - dt!.p50),
    ms(p95(via.ttfb) - p95(direct.ttfb)),
    ms(gT!.p50 - dT!.p50),
    ms(p95(via.total) - p95(direct.total)),
    `${metered} requests`,
  ]);
}
log('');
log(table(rows));
log('');
log('Gateway overhead (gateway minus direct):');
log(table(overhead));
const usage = grant.usage();
log('');
log(
  `Measured by the gateway: ${usage.requests} requests, ${usage.inputTokens.toLocaleString('en-US')} input and ${usage.outputTokens.toLocaleString('en-US')} output tokens, $${usage.costUsd?.toFixed(2)}.`,
);
grant.revoke();
await gateway.close();
agent.destroy();
child.kill('SIGTERM');
