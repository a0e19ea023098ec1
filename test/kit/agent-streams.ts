/**
 * The agent CLIs' stdout recorded from the real CLIs (test/fixtures/agent-streams/, re-recorded by
 * test/kit/record-agent-streams.ts), for the stream parser tests.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const AGENT_STREAMS_DIR = fileURLToPath(new URL('../fixtures/agent-streams/', import.meta.url));

/** The non-empty lines of `<name>.jsonl` (e.g. `codex-edit`). */
export function streamFixture(name: string): string[] {
  return readFileSync(`${AGENT_STREAMS_DIR}${name}.jsonl`, 'utf8').split('\n').filter(Boolean);
}
