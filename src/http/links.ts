import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Task log pages show agent output from private repositories, so their URLs carry an HMAC of the
 * task id: only someone who was shown the link (on the issue) can open it.
 */
export class TaskLinks {
  constructor(
    private readonly secret: string,
    private readonly publicUrl: string | undefined,
  ) {}

  sign(taskId: string): string {
    return createHmac('sha256', this.secret).update(`task:${taskId}`).digest('base64url').slice(0, 32);
  }

  verify(taskId: string, sig: string | null): boolean {
    if (!sig) return false;
    const expected = Buffer.from(this.sign(taskId));
    const given = Buffer.from(sig);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  url(taskId: string): string | undefined {
    if (!this.publicUrl) return undefined;
    return `${this.publicUrl.replace(/\/$/, '')}/tasks/${taskId}?sig=${this.sign(taskId)}`;
  }
}
