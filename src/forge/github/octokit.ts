import Bottleneck from 'bottleneck';
import type { Redis } from 'ioredis';
import { ProbotOctokit } from 'probot';

/**
 * Probot's Octokit with its request throttling kept in Redis, so GitHub's limits hold across every
 * Forge process. Probot already names each installation's limiter group by installation id, so a
 * busy installation never delays another. Forge owns the Redis connection (and closes it), which
 * Probot's own `redisConfig` path does not allow.
 */
export function throttledOctokit(redis: Redis): { Octokit: typeof ProbotOctokit; close(): Promise<void> } {
  const connection = new Bottleneck.IORedisConnection({ client: redis as never });
  class ForgeOctokit extends ProbotOctokit {
    // biome-ignore lint/suspicious/noExplicitAny: Octokit's constructor options are untyped here
    constructor(options: any = {}) {
      super({ ...options, throttle: { ...options.throttle, Bottleneck, connection } });
    }
  }
  return {
    Octokit: ForgeOctokit as unknown as typeof ProbotOctokit,
    close: async () => {
      await connection.disconnect(false);
    },
  };
}
