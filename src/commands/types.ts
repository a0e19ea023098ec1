/** What a `/forge …` comment asks for, after parsing. Pure data. */

export interface RunOptions {
  agent?: string;
  model?: string;
}

export type ForgeCommand =
  | { kind: 'run'; instruction: string; options: RunOptions }
  | { kind: 'help' }
  | { kind: 'status' }
  | { kind: 'stop' }
  /** Recognised as addressed to Forge but not runnable; `reply` says why and what is allowed. */
  | { kind: 'invalid'; reply: string };
