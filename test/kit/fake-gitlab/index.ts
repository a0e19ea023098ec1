export type { FakeGitLabHooks } from './context.js';
export { FakeGitLab, type RecordedCall, type Violation } from './fake-gitlab.js';
export { ROLES, type Role } from './fake-seeds.js';
export { gitServerHooks } from './git-hooks.js';
export type { MergeRequestState, NoteState, StatusState, UserState } from './state.js';
