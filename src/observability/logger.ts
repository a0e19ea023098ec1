import pino, { type Logger } from 'pino';
import type { Redactor } from './redact.js';

/**
 * pino, with every serialized line passed through the redactor: whatever a log call includes, a
 * registered secret (installation tokens, keys) never reaches the output.
 */
export function createLogger(options: {
  level: string;
  redactor: Redactor;
  destination?: pino.DestinationStream;
}): Logger {
  return pino(
    {
      level: options.level,
      base: { app: 'forge' },
      hooks: { streamWrite: (line: string) => options.redactor.redact(line) },
    },
    options.destination,
  );
}
