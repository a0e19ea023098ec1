import type { Redis } from 'ioredis';

/**
 * Spacing of a forge's writes, shared by every Forge process through Redis: each write atomically
 * books the next free slot and waits for it. Unlike a Redis-clustered Bottleneck, nothing is "held"
 * while a request runs, so a worker killed mid-request cannot block other processes.
 */
const BOOK_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local spacing = tonumber(ARGV[1])
local nextAt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nextAt < now then nextAt = now end
redis.call('SET', KEYS[1], nextAt + spacing, 'PX', nextAt - now + spacing * 2)
return nextAt - now`;

/** Books the next write slot under `key` and resolves when it starts. */
export async function waitForWriteSlot(redis: Redis, key: string, spacingMs: number): Promise<void> {
  const wait = Number(await redis.eval(BOOK_SLOT, 1, key, String(spacingMs)));
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
