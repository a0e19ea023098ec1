import type { Redis } from 'ioredis';

/** Claims every key at once, or none: a redelivery (same delivery id or same comment) is a duplicate. */
const CLAIM_SCRIPT = `
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then return 0 end
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[2], 'PX', ARGV[1])
end
return 1`;

export interface DedupeOptions {
  redis: Redis;
  prefix: string;
  ttlMs: number;
}

export class Deduper {
  constructor(
    private readonly options: DedupeOptions,
    private readonly eventKeys: readonly string[] = [],
  ) {}

  /**
   * This deduper, claiming `eventKeys` with every event as well: ids of the event itself rather than
   * of one delivery of it (GitLab: a hash of the payload, the same whichever hook sends it).
   */
  withEventKeys(eventKeys: readonly string[]): Deduper {
    return new Deduper(this.options, [...this.eventKeys, ...eventKeys]);
  }

  /** Keys for an event: its delivery id, the comment it carries (a comment runs once), its event keys. */
  keysFor(forge: string, repoPath: string, deliveryId: string, commentId?: number): string[] {
    const p = `${this.options.prefix}seen:${forge}:`;
    const keys = [`${p}delivery:${deliveryId}`];
    if (commentId !== undefined) keys.push(`${p}comment:${repoPath.toLowerCase()}:${commentId}`);
    for (const key of this.eventKeys) keys.push(`${p}event:${key}`);
    return keys;
  }

  /** True when this is the first time any of these keys is seen. */
  async claim(keys: string[]): Promise<boolean> {
    const result = await this.options.redis.eval(
      CLAIM_SCRIPT,
      keys.length,
      ...keys,
      String(this.options.ttlMs),
      String(Date.now()),
    );
    return result === 1;
  }

  /** Undo a claim when enqueueing failed, so a redelivery can succeed. */
  async release(keys: string[]): Promise<void> {
    await this.options.redis.del(...keys);
  }
}
