import type { Redis } from 'ioredis';
import { conversationKey } from '../forge/conversation.js';
import type { Conversation, Forge } from '../forge/types.js';
import type { TaskStore } from '../tasks/store.js';
import { stickyMarker } from './render.js';

/**
 * Writes a task's sticky comment on one issue or change request, creating it at most once even when
 * the triage job and the worker race: the first writer claims creation in Redis and stores the
 * comment id on the task; others wait for that id, then edit. A crashed creator's claim expires,
 * and `ensureComment` still finds the comment by its hidden marker.
 */
export class StickyComments {
  constructor(
    private readonly store: TaskStore,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly waitMs = 10_000,
  ) {}

  async write(forge: Forge, taskId: string, on: Conversation, body: string): Promise<number> {
    const key = conversationKey(on);
    let id = await this.knownId(taskId, key);
    if (id === undefined) {
      const claim = `${this.prefix}sticky-claim:${taskId}:${key}`;
      const won = (await this.redis.set(claim, '1', 'PX', this.waitMs * 3, 'NX')) === 'OK';
      if (!won) id = await this.waitForId(taskId, key);
    }
    const result = await forge.ensureComment(on, stickyMarker(taskId, on.number), body, id);
    if (result.id !== id) {
      await this.store.update(taskId, (t) => {
        t.stickies = { ...t.stickies, [key]: result.id };
      });
    }
    return result.id;
  }

  private async knownId(taskId: string, key: string): Promise<number | undefined> {
    return (await this.store.get(taskId))?.stickies?.[key];
  }

  private async waitForId(taskId: string, key: string): Promise<number | undefined> {
    const deadline = Date.now() + this.waitMs;
    while (Date.now() < deadline) {
      const id = await this.knownId(taskId, key);
      if (id !== undefined) return id;
      await new Promise((r) => setTimeout(r, 100));
    }
    return undefined;
  }
}
