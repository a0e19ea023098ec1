import type { Redis } from 'ioredis';
import { ProbotOctokit } from 'probot';
import { waitForWriteSlot } from '../write-slots.js';

/**
 * Spacing of GitHub writes, shared by every Forge process through Redis, per installation: GitHub
 * asks for at least a second between content-creating requests (see ../write-slots.ts).
 */
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
  const spacing = options.spacingMs ?? 1000;
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
        await waitForWriteSlot(options.redis, key, spacing);
      });
    }
  }
  return ForgeOctokit as unknown as typeof ProbotOctokit;
}
