/**
 * Splits a byte stream into lines for `ExecOptions.onLine`.
 *
 * Works on bytes, not strings, so a multi-byte UTF-8 character split across two chunks is decoded
 * whole (0x0a never occurs inside a UTF-8 sequence). A single line is capped at `maxBytes`: an agent
 * that prints a minified bundle or a base64 blob without newlines must not grow our memory without
 * bound, so the rest of such a line is dropped and the emitted prefix is marked as truncated.
 */

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
export const TRUNCATED_MARKER = ' …[line truncated]';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export class LineSplitter {
  #parts: Buffer[] = [];
  #size = 0;
  /** True once the current line hit the cap: bytes are discarded until the next newline. */
  #dropping = false;
  readonly #emit: (line: string) => void;
  readonly #maxBytes: number;

  constructor(emit: (line: string) => void, maxBytes = DEFAULT_MAX_LINE_BYTES) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError('maxBytes must be a positive integer');
    }
    this.#emit = emit;
    this.#maxBytes = maxBytes;
  }

  push(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(NEWLINE, start);
      this.#append(buf.subarray(start, nl === -1 ? buf.length : nl));
      if (nl === -1) return;
      this.#flush();
      start = nl + 1;
    }
  }

  /** Emits a final line that had no trailing newline. Call once, when the stream ended. */
  end(): void {
    if (this.#size > 0 || this.#dropping) this.#flush();
  }

  #append(piece: Buffer): void {
    if (this.#dropping || piece.length === 0) return;
    const room = this.#maxBytes - this.#size;
    if (piece.length <= room) {
      this.#parts.push(piece);
      this.#size += piece.length;
      return;
    }
    // Cut on a character boundary: step back over UTF-8 continuation bytes (10xxxxxx).
    let cut = room;
    while (cut > 0 && ((piece[cut] ?? 0) & 0xc0) === 0x80) cut--;
    this.#parts.push(piece.subarray(0, cut));
    this.#size += cut;
    this.#dropping = true;
  }

  #flush(): void {
    let line = Buffer.concat(this.#parts, this.#size);
    const truncated = this.#dropping;
    if (!truncated && line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN) {
      line = line.subarray(0, line.length - 1);
    }
    this.#parts = [];
    this.#size = 0;
    this.#dropping = false;
    this.#emit(line.toString('utf8') + (truncated ? TRUNCATED_MARKER : ''));
  }
}

/**
 * An exec's stdout and stderr, split into lines for `onLine`. A throwing listener is a bug in the
 * caller: its first error stops all further delivery, is kept in `error`, and `onListenerError`
 * stops the command so the error can surface.
 */
export class ExecOutput {
  error: Error | undefined;
  readonly #splitters: Record<'stdout' | 'stderr', LineSplitter>;

  constructor(
    onLine: (stream: 'stdout' | 'stderr', line: string) => void,
    maxBytes: number,
    onListenerError: () => void,
  ) {
    const emitter = (stream: 'stdout' | 'stderr') => (line: string) =>
      this.#emit(stream, line, onLine, onListenerError);
    this.#splitters = {
      stdout: new LineSplitter(emitter('stdout'), maxBytes),
      stderr: new LineSplitter(emitter('stderr'), maxBytes),
    };
  }

  push(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    this.#splitters[stream].push(chunk);
  }

  /** A whole line of Forge's own (e.g. why the command could not start). */
  line(stream: 'stdout' | 'stderr', text: string): void {
    this.push(stream, Buffer.from(`${text}\n`, 'utf8'));
  }

  /** Emits what is left of unterminated last lines. */
  end(): void {
    this.#splitters.stdout.end();
    this.#splitters.stderr.end();
  }

  #emit(
    stream: 'stdout' | 'stderr',
    line: string,
    onLine: (stream: 'stdout' | 'stderr', line: string) => void,
    onListenerError: () => void,
  ): void {
    if (this.error) return;
    try {
      onLine(stream, line);
    } catch (error) {
      this.error = error instanceof Error ? error : new Error(String(error));
      onListenerError();
    }
  }
}
