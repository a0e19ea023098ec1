import type { Redis } from 'ioredis';
import { ProbotOctokit } from 'probot';

/**
 * Spacing of GitHub writes, shared by every Forge process through Redis, per installation: GitHub
 * asks for at least a second between content-creating requests. Each write atomically books the
 * next free slot and waits for it. Unlike a Redis-clustered Bottleneck, nothing is "held" while a
 * request runs, so a worker killed mid-request cannot block other processes.
 */
const BOOK_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local spacing = tonumber(ARGV[1])
local nextAt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nextAt < now then nextAt = now end
redis.call('SET', KEYS[1], nextAt + spacing, 'PX', nextAt - now + spacing * 2)
return nextAt - now`;

export interface WriteGateOptions {
  redis: Redis;
  prefix: string;
  spacingMs?: number;
}

const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/** A GraphQL request (POSTed, but a read unless it is a mutation). */
function isGraphqlQuery(request: { url: string; query?: unknown }): boolean {
  return (
    /\/graphql$/.test(request.url) &&
    typeof request.query === 'string' &&
    !/^\s*mutation\b/.test(request.query)
  );
}

/** Probot's Octokit with writes spaced across processes (reads are not limited beyond Probot's own). */
export function throttledOctokit(options: WriteGateOptions): typeof ProbotOctokit {
  const spacing = String(options.spacingMs ?? 1000);
  class ForgeOctokit extends ProbotOctokit {
    // biome-ignore lint/suspicious/noExplicitAny: Octokit's constructor options are untyped here
    constructor(octokitOptions: any = {}) {
      super(octokitOptions);
      const installation = String(
        octokitOptions.auth?.installationId ?? octokitOptions.throttle?.id ?? 'app',
      );
      const key = `${options.prefix}github-writes:${installation}`;
      this.hook.before('request', async (request) => {
        if (!WRITE_METHODS.has(request.method) || /\/access_tokens$/.test(request.url)) return;
        if (isGraphqlQuery(request)) return;
        const wait = Number(await options.redis.eval(BOOK_SLOT, 1, key, spacing));
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      });
    }
  }
  return ForgeOctokit as unknown as typeof ProbotOctokit;
}
