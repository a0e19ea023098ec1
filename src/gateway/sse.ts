/**
 * An incremental Server-Sent Events decoder (the WHATWG event-stream format): bytes in, in chunks
 * cut anywhere (mid-line, mid-UTF-8 sequence, between `\r` and `\n`), complete events out.
 */

export interface SseEvent {
  /** The `event:` field, when the stream names its events (Anthropic, OpenAI Responses). */
  event?: string;
  data: string;
}

export class SseDecoder {
  private readonly text = new TextDecoder('utf-8');
  private pending = '';
  private data: string[] = [];
  private event: string | undefined;
  private sawData = false;

  push(chunk: Uint8Array | string): SseEvent[] {
    const str = typeof chunk === 'string' ? chunk : this.text.decode(chunk, { stream: true });
    // The pending partial line holds no line break (bar a trailing `\r`): scan only what is new.
    const from = Math.max(0, this.pending.length - 1);
    return this.lines(this.pending + str, false, from);
  }

  /** Flushes a last event the stream did not end with a blank line. */
  end(): SseEvent[] {
    const rest = this.pending + this.text.decode();
    this.pending = '';
    const events = this.lines(rest, true);
    if (this.sawData) events.push(this.take());
    return events;
  }

  private lines(buffer: string, final: boolean, from = 0): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = from; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A `\r` at the very end may be the first half of `\r\n`: wait for the next chunk.
      if (c === 13 && i === buffer.length - 1 && !final) break;
      this.line(buffer.slice(start, i), events);
      if (c === 13 && buffer.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    this.pending = buffer.slice(start);
    if (final && this.pending) {
      this.line(this.pending, events);
      this.pending = '';
    }
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.sawData) events.push(this.take());
      else this.event = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58) return; // `:` comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.sawData = true;
    } else if (field === 'event') {
      this.event = value;
    }
  }

  private take(): SseEvent {
    const event: SseEvent = { data: this.data.join('\n') };
    if (this.event !== undefined) event.event = this.event;
    this.data = [];
    this.event = undefined;
    this.sawData = false;
    return event;
  }
}
