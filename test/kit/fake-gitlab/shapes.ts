import type {
  AwardState,
  IssueState,
  MergeRequestState,
  NoteState,
  ProjectState,
  State,
  StatusState,
  UserState,
} from './state.js';

/** Response bodies in the shapes GitLab's API documentation shows (the fields Forge or gitbeaker read, and their neighbours). */

export interface ShapeContext {
  state: State;
  /** `http://127.0.0.1:PORT` (the instance's web URL). */
  web: string;
}

export function userBasic(ctx: ShapeContext, user: UserState) {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    state: user.state,
    locked: user.state === 'blocked',
    avatar_url: null,
    web_url: `${ctx.web}/${user.username}`,
  };
}

/** `GET /users/:id` exposes `bot` (lib/api/entities/user.rb). */
export function user(ctx: ShapeContext, u: UserState) {
  return {
    ...userBasic(ctx, u),
    created_at: '2024-01-01T00:00:00.000Z',
    bio: '',
    location: '',
    public_email: null,
    linkedin: '',
    twitter: '',
    website_url: '',
    organization: '',
    job_title: '',
    pronouns: null,
    bot: u.bot,
    work_information: null,
    followers: 0,
    following: 0,
  };
}

function author(ctx: ShapeContext, userId: number) {
  const u = ctx.state.users.get(userId);
  return u
    ? userBasic(ctx, u)
    : {
        id: userId,
        username: `user${userId}`,
        name: 'Ghost',
        state: 'active',
        avatar_url: null,
        web_url: '',
      };
}

export function projectUrl(ctx: ShapeContext, project: ProjectState): string {
  return `${ctx.web}/${project.path}`;
}

export function member(ctx: ShapeContext, u: UserState, level: number) {
  return {
    ...userBasic(ctx, u),
    access_level: level,
    expires_at: null,
    created_at: '2024-01-01T00:00:00.000Z',
  };
}

export function issue(ctx: ShapeContext, project: ProjectState, i: IssueState) {
  return {
    id: i.id,
    iid: i.iid,
    project_id: project.id,
    title: i.title,
    description: i.description,
    state: i.state,
    created_at: i.createdAt,
    updated_at: i.createdAt,
    closed_at: null,
    labels: [],
    milestone: null,
    author: author(ctx, i.authorId),
    assignees: [],
    assignee: null,
    type: 'ISSUE',
    user_notes_count: ctx.state.notesOf(project.id, 'Issue', i.iid).length,
    confidential: i.confidential,
    discussion_locked: null,
    issue_type: 'issue',
    web_url: `${projectUrl(ctx, project)}/-/issues/${i.iid}`,
    references: { short: `#${i.iid}`, relative: `#${i.iid}`, full: `${project.path}#${i.iid}` },
  };
}

export function mergeRequest(
  ctx: ShapeContext,
  project: ProjectState,
  mr: MergeRequestState,
  sha: string | null,
) {
  const draft = /^\s*(\[draft\]|\(draft\)|draft:)/i.test(mr.title);
  return {
    id: mr.id,
    iid: mr.iid,
    project_id: project.id,
    title: mr.title,
    description: mr.description,
    state: mr.state,
    created_at: mr.createdAt,
    updated_at: mr.updatedAt,
    merged_at: mr.state === 'merged' ? mr.updatedAt : null,
    closed_at: mr.state === 'closed' ? mr.updatedAt : null,
    target_branch: mr.targetBranch,
    source_branch: mr.sourceBranch,
    author: author(ctx, mr.authorId),
    assignees: [],
    assignee: null,
    reviewers: [],
    source_project_id: mr.sourceProjectId,
    target_project_id: mr.projectId,
    labels: [],
    draft,
    work_in_progress: draft,
    milestone: null,
    merge_when_pipeline_succeeds: false,
    merge_status: 'can_be_merged',
    detailed_merge_status: draft ? 'draft_status' : 'mergeable',
    sha,
    merge_commit_sha: null,
    squash_commit_sha: null,
    user_notes_count: ctx.state.notesOf(project.id, 'MergeRequest', mr.iid).length,
    discussion_locked: null,
    should_remove_source_branch: null,
    force_remove_source_branch: false,
    web_url: `${projectUrl(ctx, project)}/-/merge_requests/${mr.iid}`,
    references: { short: `!${mr.iid}`, relative: `!${mr.iid}`, full: `${project.path}!${mr.iid}` },
    squash: false,
    has_conflicts: false,
    blocking_discussions_resolved: true,
    diff_refs: sha ? { base_sha: null, head_sha: sha, start_sha: null } : null,
  };
}

export function note(ctx: ShapeContext, n: NoteState) {
  return {
    id: n.id,
    type: n.type,
    body: n.body,
    attachment: null,
    author: author(ctx, n.authorId),
    created_at: n.createdAt,
    updated_at: n.updatedAt,
    system: n.system,
    noteable_id: n.noteableId,
    noteable_type: n.noteableType,
    project_id: n.projectId,
    noteable_iid: n.noteableIid,
    resolvable: n.resolvable,
    ...(n.resolvable ? { resolved: n.resolved, resolved_by: null, resolved_at: null } : {}),
    ...(n.position
      ? { position: { position_type: 'text', ...n.position, old_path: n.position.new_path, old_line: null } }
      : {}),
    confidential: false,
    internal: false,
    imported: false,
    imported_from: 'none',
  };
}

export function discussion(ctx: ShapeContext, notes: NoteState[]) {
  return {
    id: notes[0]!.discussionId,
    individual_note: notes.length === 1 && notes[0]!.type === null,
    notes: notes.map((n) => note(ctx, n)),
  };
}

export function award(ctx: ShapeContext, a: AwardState, noteable: NoteState) {
  return {
    id: a.id,
    name: a.name,
    user: author(ctx, a.userId),
    created_at: a.createdAt,
    updated_at: a.createdAt,
    awardable_id: noteable.id,
    awardable_type: 'Note',
  };
}

export function branch(ctx: ShapeContext, project: ProjectState, name: string, sha: string) {
  return {
    name,
    merged: false,
    protected: name === project.defaultBranch,
    default: name === project.defaultBranch,
    developers_can_push: name !== project.defaultBranch,
    developers_can_merge: name !== project.defaultBranch,
    can_push: true,
    web_url: `${projectUrl(ctx, project)}/-/tree/${encodeURIComponent(name)}`,
    commit: {
      id: sha,
      short_id: sha.slice(0, 8),
      title: 'commit',
      message: 'commit',
      parent_ids: [],
      web_url: `${projectUrl(ctx, project)}/-/commit/${sha}`,
    },
  };
}

export function status(ctx: ShapeContext, s: StatusState) {
  return {
    id: s.id,
    sha: s.sha,
    ref: s.ref,
    status: s.status,
    name: s.name,
    target_url: s.targetUrl,
    description: s.description,
    created_at: s.createdAt,
    started_at: s.startedAt,
    finished_at: s.finishedAt,
    allow_failure: false,
    coverage: null,
    pipeline_id: s.pipelineId,
    author: author(ctx, s.authorId),
  };
}
