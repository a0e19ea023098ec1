export type { Caller, IssuedToken } from './auth.js';
export type { FakeGitHubHooks } from './context.js';
export type { RecordedCall, Violation } from './dispatch.js';
export { FakeGitHub, type FakeGitHubOptions } from './fake-github.js';
export type { FakeGitHubState, PullView } from './fake-state.js';
export { warmUp } from './openapi.js';
export type {
  CheckRunState,
  CommentState,
  IssueState,
  ReactionState,
  ReviewCommentState,
  Role,
} from './state.js';
export { waitFor } from './wait.js';
