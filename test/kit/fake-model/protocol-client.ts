/** What the fake model's protocol tests share: reading SSE bodies and collecting the violations a request caused. */
import assert from 'node:assert/strict';
import type { FakeModel } from './server.js';

/** The events of an SSE body (LF or CRLF framing), each with its `event:` name if any and raw `data:`. */
export function sseEvents(text: string): Array<{ event?: string; data: string }> {
  return text
    .split(/\r?\n\r?\n/)
    .filter((chunk) => chunk.trim())
    .map((chunk) => {
      const event = /^event: (.+)$/m.exec(chunk)?.[1];
      const data = /^data: (.*)$/m.exec(chunk)?.[1];
      assert.ok(data !== undefined, `an SSE event without data: ${chunk}`);
      return event === undefined ? { data } : { event, data };
    });
}

/** Sends a request the real API would refuse; returns the violations it caused (at least one). */
export async function violationsOf(fake: FakeModel, send: () => Promise<Response>): Promise<string[]> {
  const before = fake.violations.length;
  const res = await send();
  assert.equal(res.status, 400);
  await res.text();
  const found = fake.violations.splice(before);
  assert.ok(found.length > 0, 'expected a violation');
  return found;
}
