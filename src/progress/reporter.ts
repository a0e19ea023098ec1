import type { CheckReport, Forge } from '../forge/types.js';

export interface ReporterOptions {
  forge: Forge;
  /** Creates or edits the sticky comment; returns its id. */
  writeSticky(body: string): Promise<number>;
  /** GitHub asks for at least a second between writes. */
  minIntervalMs?: number;
  redact(text: string): string;
  onError(error: unknown): void;
  /** A check was created on `sha`: remember it, so whoever finishes the turn can complete it. */
  onCheckCreated?(id: number, sha: string): Promise<void>;
}

/**
 * Coalesces progress into at most one API write per interval: the sticky comment and the check run
 * are "desired states"; a single writer loop sends whichever changed, latest value wins.
 */
export class ProgressReporter {
  writes = 0;
  stickyId?: number;
  checkId?: number;
  private sticky?: string;
  private check?: Omit<CheckReport, 'sha'> & { sha?: string };
  private dirty = { sticky: false, check: false };
  private lastWriteAt = 0;
  private failures = 0;
  private readonly closing: { id: number; report: CheckReport }[] = [];
  /** The last report written to `checkId` (its commit is the run's `head_sha`). */
  private sent?: CheckReport;
  private timer?: NodeJS.Timeout;
  private writing?: Promise<void>;
  private readonly minIntervalMs: number;

  constructor(private readonly options: ReporterOptions) {
    this.minIntervalMs = options.minIntervalMs ?? 1000;
  }

  setSticky(body: string): void {
    const text = this.options.redact(body);
    if (text === this.sticky) return;
    this.sticky = text;
    this.dirty.sticky = true;
    this.schedule();
  }

  /** The check needs a commit; without `sha` it waits until one is known. */
  setCheck(report: Omit<CheckReport, 'sha'> & { sha?: string }, knownId?: number): void {
    if (knownId !== undefined && this.checkId === undefined) this.checkId = knownId;
    const previousSha = this.check?.sha;
    if (report.sha && previousSha && report.sha !== previousSha && this.checkId !== undefined) {
      // A turn started on a PR hangs its check on the PR head; once it pushes a new commit the
      // check moves there (GitHub shows the head commit's checks), and the old run is closed.
      this.closing.push({
        id: this.checkId,
        report: {
          ...(this.check as CheckReport),
          status: 'completed',
          conclusion: 'neutral',
          title: `Continued on ${report.sha.slice(0, 7)}`,
        },
      });
      this.checkId = undefined;
    }
    this.check = {
      ...report,
      summary: this.options.redact(report.summary),
      title: this.options.redact(report.title),
    };
    this.dirty.check = true;
    this.schedule();
  }

  /** Writes everything pending now (still spaced by the interval) and waits for it. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.closing.length || this.dirty.sticky || (this.dirty.check && this.check?.sha)) {
      await this.writing;
      const wait = this.lastWriteAt + this.minIntervalMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await this.writeOne();
    }
    await this.writing;
  }

  private schedule(): void {
    if (this.timer || this.writing) return;
    const wait = Math.max(0, this.lastWriteAt + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeOne().then(() => {
        if (this.closing.length || this.dirty.sticky || (this.dirty.check && this.check?.sha))
          this.schedule();
      });
    }, wait);
    this.timer.unref?.();
  }

  private writeOne(): Promise<void> {
    if (this.writing) return this.writing;
    const run = async () => {
      let surface: 'sticky' | 'check' | undefined;
      try {
        const closing = this.closing.shift();
        if (closing) {
          await this.options.forge.reportCheck(closing.report, closing.id);
          this.writes++;
        } else if (this.dirty.sticky && this.sticky !== undefined) {
          surface = 'sticky';
          this.dirty.sticky = false;
          const body = this.sticky;
          this.stickyId = await this.options.writeSticky(body);
          this.writes++;
        } else if (this.dirty.check && this.check?.sha) {
          surface = 'check';
          this.dirty.check = false;
          const report = this.check as CheckReport;
          if (this.checkId !== undefined && this.sent && this.sent.sha !== report.sha) {
            // The commit moved while the run for the old one was still being created: close that
            // run and open one on the new commit (an update cannot move a run to another commit).
            const old = { ...this.sent, status: 'completed' as const, conclusion: 'neutral' as const };
            await this.options.forge.reportCheck(
              { ...old, title: `Continued on ${report.sha.slice(0, 7)}` },
              this.checkId,
            );
            this.writes++;
            this.checkId = undefined;
          }
          const { id } = await this.options.forge.reportCheck(report, this.checkId);
          if (id !== this.checkId) await this.options.onCheckCreated?.(id, report.sha);
          this.checkId = id;
          this.sent = report;
          this.writes++;
        }
      } catch (error) {
        this.options.onError(error);
        // Retry a failed write a few times: the last state of a turn must reach the user.
        if (surface && ++this.failures <= 3) this.dirty[surface] = true;
      } finally {
        this.lastWriteAt = Date.now();
      }
    };
    this.writing = run().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }
}
