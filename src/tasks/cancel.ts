import type { Redis } from 'ioredis';

/**
 * `/forge stop` reaches whichever worker runs the turn: a flag in Redis (checked when a turn starts
 * and polled while it runs) plus a pub/sub nudge so the stop takes effect at once.
 */
export class CancelBus {
  private readonly channel: string;
  private readonly controllers = new Map<string, AbortController>();
  private subscriber?: Redis;
  private poller?: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.channel = `${prefix}cancel`;
  }

  private key(taskId: string, turn: number): string {
    return `${this.prefix}cancel:${taskId}:${turn}`;
  }

  async request(taskId: string, turn: number): Promise<void> {
    await this.redis.set(this.key(taskId, turn), '1', 'EX', 86_400);
    await this.redis.publish(this.channel, `${taskId}/${turn}`);
  }

  async isRequested(taskId: string, turn: number): Promise<boolean> {
    return (await this.redis.exists(this.key(taskId, turn))) === 1;
  }

  /** Starts listening (workers only). `subscriber` must be a connection of its own. */
  async listen(subscriber: Redis, pollMs = 2000): Promise<void> {
    this.subscriber = subscriber;
    await subscriber.subscribe(this.channel);
    subscriber.on('message', (_channel: string, message: string) => {
      this.controllers.get(message)?.abort(new Error('stopped'));
    });
    this.poller = setInterval(() => void this.pollAll(), pollMs);
    this.poller.unref();
  }

  private async pollAll(): Promise<void> {
    for (const [id, controller] of this.controllers) {
      const [taskId, turn] = id.split('/');
      if (await this.isRequested(taskId!, Number(turn)).catch(() => false))
        controller.abort(new Error('stopped'));
    }
  }

  /** An AbortSignal that fires when this turn is stopped; call the returned release when done. */
  track(taskId: string, turn: number): { signal: AbortSignal; release(): void } {
    const id = `${taskId}/${turn}`;
    const controller = new AbortController();
    this.controllers.set(id, controller);
    return {
      signal: controller.signal,
      release: () => {
        if (this.controllers.get(id) === controller) this.controllers.delete(id);
      },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.poller);
    await this.subscriber?.quit().catch(() => undefined);
  }
}
