import { TRUNCATED_MARKER } from '../sandbox/lines.js';

/**
 * Agent CLIs may print lines of megabytes (a JSON event carrying a whole file); the log keeps the
 * start of each, which is what a reader needs.
 */
export const LOG_LINE_MAX_CHARS = 16 * 1024;

/**
 * Batches agent output lines into event-log writes: one Redis call per burst instead of one per
 * line, and never more than `maxLines` in memory.
 */
export class LogBuffer {
  private lines: string[] = [];
  private timer?: NodeJS.Timeout;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (lines: string[]) => Promise<void>,
    private readonly delayMs = 200,
    private readonly maxLines = 200,
  ) {}

  push(line: string): void {
    this.lines.push(
      line.length > LOG_LINE_MAX_CHARS ? `${line.slice(0, LOG_LINE_MAX_CHARS)}${TRUNCATED_MARKER}` : line,
    );
    if (this.lines.length >= this.maxLines) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.delayMs);
      this.timer.unref();
    }
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.lines.length) return this.pending;
    const batch = this.lines;
    this.lines = [];
    this.pending = this.pending.then(() => this.write(batch)).catch(() => undefined);
    return this.pending;
  }
}
