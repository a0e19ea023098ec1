/** What a `/forge …` comment asks for, after parsing. Pure data. */

export interface RunOptions {
  agent?: string;
  model?: string;
}

export type ForgeCommand =
  | { kind: 'run'; instruction: string; options: RunOptions }
  /** `/forge plan <instruction>`: propose a plan and questions, change nothing. */
  | { kind: 'plan'; instruction: string; options: RunOptions }
  /** `/forge approve [edits]`: run the task's pending plan, with optional changes to it. */
  | { kind: 'approve'; edits?: string }
  /**
   * `/forge address-reviews [notes]`: one turn that handles every unresolved review thread of the
   * change request, then answers in each thread.
   */
  | { kind: 'address_reviews'; instruction?: string; options: RunOptions }
  /** `/forge continue`: pick up the last turn that was stopped, timed out or failed. */
  | { kind: 'continue' }
  | { kind: 'help' }
  | { kind: 'status' }
  | { kind: 'stop' }
  /**
   * Recognised as addressed to Forge but not runnable; `reply` says why and what is allowed.
   * `help`: the reply is followed by the help text (an unknown command word or option).
   */
  | { kind: 'invalid'; reply: string; help?: true };
