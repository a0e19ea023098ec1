/**
 * The GitLab REST API endpoints the fake serves, transcribed from GitLab's API documentation
 * (gitlab-org/gitlab `doc/api/*.md`; the page is named on each entry): method, path, and every
 * documented attribute with its type and whether it is required. No machine-readable description of
 * GitLab's REST API ships on npm, so this table is the fake's contract. A request outside it, with an
 * undocumented attribute, a missing required one or a value of the wrong type is a violation.
 *
 * Types follow the docs: `integer`, `string`, `boolean`, `integer array`, and `integer or string` for
 * a project id (numeric, or its URL-encoded path). GitLab reads attributes from the query string or
 * the body alike; the fake does too.
 */

export type ParamType = 'integer' | 'string' | 'boolean' | 'integer array' | 'integer or string' | 'float';

export interface ParamDef {
  type: ParamType;
  required?: boolean;
  /** Allowed values (the docs' "Valid values" / "one of"). */
  values?: readonly string[];
  /** Longest allowed string (the docs' "Must be 255 characters or fewer"). */
  maxLength?: number;
}

export interface EndpointDef {
  /** Stable name, used by handlers and in violations. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path after `/api/v4`, with `:param` segments. */
  path: string;
  /** The documentation page and section it comes from. */
  doc: string;
  params: Record<string, ParamDef>;
  /** Offset pagination (`page`, `per_page`; doc/api/rest/_index.md#offset-based-pagination). */
  paginated?: boolean;
}

const projectId: ParamDef = { type: 'integer or string', required: true };
const iid: ParamDef = { type: 'integer', required: true };
const sort: ParamDef = { type: 'string', values: ['asc', 'desc'] };
const noteOrderBy: ParamDef = { type: 'string', values: ['created_at', 'updated_at'] };

export const ENDPOINTS: readonly EndpointDef[] = [
  {
    name: 'users/current',
    method: 'GET',
    path: '/user',
    doc: 'users.md#get-the-current-user',
    params: {},
  },
  {
    name: 'users/list',
    method: 'GET',
    path: '/users',
    doc: 'users.md#list-users',
    paginated: true,
    params: {
      username: { type: 'string' },
      search: { type: 'string' },
      active: { type: 'boolean' },
      blocked: { type: 'boolean' },
      external: { type: 'boolean' },
      exclude_active: { type: 'boolean' },
      exclude_external: { type: 'boolean' },
      exclude_humans: { type: 'boolean' },
      exclude_internal: { type: 'boolean' },
      humans: { type: 'boolean' },
      order_by: { type: 'string', values: ['id', 'name', 'username', 'created_at', 'updated_at'] },
      sort,
      without_project_bots: { type: 'boolean' },
      public_email: { type: 'string' },
      created_after: { type: 'string' },
      created_before: { type: 'string' },
    },
  },
  {
    name: 'users/get',
    method: 'GET',
    path: '/users/:id',
    doc: 'users.md#get-a-single-user',
    params: { id: { type: 'integer', required: true } },
  },
  {
    name: 'members/get-all',
    method: 'GET',
    path: '/projects/:id/members/all/:user_id',
    doc: 'members.md#get-a-member-of-a-group-or-project-including-inherited-and-invited-members',
    params: { id: projectId, user_id: { type: 'integer', required: true } },
  },
  {
    // The same documented section as the project variant; `:id` is the group's id or URL-encoded path.
    name: 'group-members/get-all',
    method: 'GET',
    path: '/groups/:id/members/all/:user_id',
    doc: 'members.md#get-a-member-of-a-group-or-project-including-inherited-and-invited-members',
    params: {
      id: { type: 'integer or string', required: true },
      user_id: { type: 'integer', required: true },
    },
  },
  {
    name: 'issues/get',
    method: 'GET',
    path: '/projects/:id/issues/:issue_iid',
    doc: 'issues.md#single-project-issue',
    params: { id: projectId, issue_iid: iid },
  },
  {
    name: 'issue-notes/list',
    method: 'GET',
    path: '/projects/:id/issues/:issue_iid/notes',
    doc: 'notes.md#list-project-issue-notes',
    paginated: true,
    params: {
      id: projectId,
      issue_iid: iid,
      activity_filter: { type: 'string', values: ['all_notes', 'only_comments', 'only_activity'] },
      sort,
      order_by: noteOrderBy,
    },
  },
  {
    name: 'issue-notes/create',
    method: 'POST',
    path: '/projects/:id/issues/:issue_iid/notes',
    doc: 'notes.md#create-new-issue-note',
    params: {
      id: projectId,
      issue_iid: iid,
      body: { type: 'string', required: true, maxLength: 1_000_000 },
      confidential: { type: 'boolean' },
      internal: { type: 'boolean' },
      created_at: { type: 'string' },
    },
  },
  {
    name: 'issue-notes/update',
    method: 'PUT',
    path: '/projects/:id/issues/:issue_iid/notes/:note_id',
    doc: 'notes.md#modify-existing-issue-note',
    params: {
      id: projectId,
      issue_iid: iid,
      note_id: { type: 'integer', required: true },
      body: { type: 'string', maxLength: 1_000_000 },
      confidential: { type: 'boolean' },
    },
  },
  {
    name: 'mr-notes/list',
    method: 'GET',
    path: '/projects/:id/merge_requests/:merge_request_iid/notes',
    doc: 'notes.md#list-all-merge-request-notes',
    paginated: true,
    params: { id: projectId, merge_request_iid: iid, sort, order_by: noteOrderBy },
  },
  {
    name: 'mr-notes/create',
    method: 'POST',
    path: '/projects/:id/merge_requests/:merge_request_iid/notes',
    doc: 'notes.md#create-new-merge-request-note',
    params: {
      id: projectId,
      merge_request_iid: iid,
      body: { type: 'string', required: true, maxLength: 1_000_000 },
      created_at: { type: 'string' },
      internal: { type: 'boolean' },
      merge_request_diff_head_sha: { type: 'string' },
    },
  },
  {
    name: 'mr-notes/update',
    method: 'PUT',
    path: '/projects/:id/merge_requests/:merge_request_iid/notes/:note_id',
    doc: 'notes.md#modify-existing-merge-request-note',
    params: {
      id: projectId,
      merge_request_iid: iid,
      note_id: { type: 'integer', required: true },
      body: { type: 'string', required: true, maxLength: 1_000_000 },
      confidential: { type: 'boolean' },
    },
  },
  {
    name: 'issue-note-emoji/create',
    method: 'POST',
    path: '/projects/:id/issues/:issue_iid/notes/:note_id/award_emoji',
    doc: 'emoji_reactions.md#add-a-new-emoji-reaction-to-a-comment',
    params: {
      id: projectId,
      issue_iid: iid,
      note_id: { type: 'integer', required: true },
      name: { type: 'string', required: true },
    },
  },
  {
    name: 'mr-note-emoji/create',
    method: 'POST',
    path: '/projects/:id/merge_requests/:merge_request_iid/notes/:note_id/award_emoji',
    doc: 'emoji_reactions.md#add-a-new-emoji-reaction-to-a-comment',
    params: {
      id: projectId,
      merge_request_iid: iid,
      note_id: { type: 'integer', required: true },
      name: { type: 'string', required: true },
    },
  },
  {
    name: 'mr-discussions/list',
    method: 'GET',
    path: '/projects/:id/merge_requests/:merge_request_iid/discussions',
    doc: 'discussions.md#list-project-merge-request-discussion-items',
    paginated: true,
    params: { id: projectId, merge_request_iid: iid },
  },
  {
    name: 'mr-discussions/add-note',
    method: 'POST',
    path: '/projects/:id/merge_requests/:merge_request_iid/discussions/:discussion_id/notes',
    doc: 'discussions.md#add-note-to-existing-merge-request-thread',
    params: {
      id: projectId,
      merge_request_iid: iid,
      discussion_id: { type: 'string', required: true },
      // Listed as required in older versions of the page, never enforced; current docs drop it.
      note_id: { type: 'integer' },
      body: { type: 'string', required: true, maxLength: 1_000_000 },
      created_at: { type: 'string' },
    },
  },
  {
    name: 'merge-requests/list',
    method: 'GET',
    path: '/projects/:id/merge_requests',
    doc: 'merge_requests.md#list-project-merge-requests',
    paginated: true,
    params: {
      id: projectId,
      state: { type: 'string', values: ['opened', 'closed', 'locked', 'merged', 'all'] },
      source_branch: { type: 'string' },
      target_branch: { type: 'string' },
      iids: { type: 'integer array' },
      order_by: { type: 'string', values: ['created_at', 'title', 'merged_at', 'updated_at'] },
      sort,
      scope: { type: 'string', values: ['created_by_me', 'assigned_to_me', 'all'] },
      author_id: { type: 'integer' },
      author_username: { type: 'string' },
      labels: { type: 'string' },
      milestone: { type: 'string' },
      search: { type: 'string' },
      view: { type: 'string', values: ['simple'] },
      wip: { type: 'string', values: ['yes', 'no'] },
      draft: { type: 'string', values: ['yes', 'no'] },
      with_labels_details: { type: 'boolean' },
      with_merge_status_recheck: { type: 'boolean' },
      created_after: { type: 'string' },
      created_before: { type: 'string' },
      updated_after: { type: 'string' },
      updated_before: { type: 'string' },
    },
  },
  {
    name: 'merge-requests/get',
    method: 'GET',
    path: '/projects/:id/merge_requests/:merge_request_iid',
    doc: 'merge_requests.md#get-single-mr',
    params: {
      id: projectId,
      merge_request_iid: iid,
      include_diverged_commits_count: { type: 'boolean' },
      include_rebase_in_progress: { type: 'boolean' },
      render_html: { type: 'boolean' },
    },
  },
  {
    name: 'merge-requests/create',
    method: 'POST',
    path: '/projects/:id/merge_requests',
    doc: 'merge_requests.md#create-mr',
    params: {
      id: projectId,
      source_branch: { type: 'string', required: true },
      target_branch: { type: 'string', required: true },
      title: { type: 'string', required: true },
      allow_collaboration: { type: 'boolean' },
      allow_maintainer_to_push: { type: 'boolean' },
      approvals_before_merge: { type: 'integer' },
      assignee_id: { type: 'integer' },
      assignee_ids: { type: 'integer array' },
      description: { type: 'string', maxLength: 1_048_576 },
      labels: { type: 'string' },
      merge_after: { type: 'string' },
      milestone_id: { type: 'integer' },
      remove_source_branch: { type: 'boolean' },
      reviewer_ids: { type: 'integer array' },
      squash: { type: 'boolean' },
      target_project_id: { type: 'integer' },
    },
  },
  {
    name: 'merge-requests/update',
    method: 'PUT',
    path: '/projects/:id/merge_requests/:merge_request_iid',
    doc: 'merge_requests.md#update-mr',
    params: {
      id: projectId,
      merge_request_iid: iid,
      add_labels: { type: 'string' },
      allow_collaboration: { type: 'boolean' },
      allow_maintainer_to_push: { type: 'boolean' },
      assignee_id: { type: 'integer' },
      assignee_ids: { type: 'integer array' },
      description: { type: 'string', maxLength: 1_048_576 },
      discussion_locked: { type: 'boolean' },
      labels: { type: 'string' },
      merge_after: { type: 'string' },
      milestone_id: { type: 'integer' },
      remove_labels: { type: 'string' },
      remove_source_branch: { type: 'boolean' },
      reviewer_ids: { type: 'integer array' },
      squash: { type: 'boolean' },
      state_event: { type: 'string', values: ['close', 'reopen'] },
      target_branch: { type: 'string' },
      title: { type: 'string' },
    },
  },
  {
    name: 'branches/get',
    method: 'GET',
    path: '/projects/:id/repository/branches/:branch',
    doc: 'branches.md#get-single-repository-branch',
    params: { id: projectId, branch: { type: 'string', required: true } },
  },
  {
    name: 'files/get-raw',
    method: 'GET',
    path: '/projects/:id/repository/files/:file_path/raw',
    doc: 'repository_files.md#get-raw-file-from-repository',
    params: {
      id: projectId,
      file_path: { type: 'string', required: true },
      ref: { type: 'string' },
      lfs: { type: 'boolean' },
    },
  },
  {
    name: 'statuses/create',
    method: 'POST',
    path: '/projects/:id/statuses/:sha',
    doc: 'commits.md#set-the-pipeline-status-of-a-commit',
    params: {
      id: projectId,
      sha: { type: 'string', required: true },
      state: {
        type: 'string',
        required: true,
        values: ['pending', 'running', 'success', 'failed', 'canceled', 'skipped'],
      },
      ref: { type: 'string', maxLength: 255 },
      name: { type: 'string' },
      context: { type: 'string' },
      target_url: { type: 'string', maxLength: 255 },
      description: { type: 'string', maxLength: 255 },
      coverage: { type: 'float' },
      pipeline_id: { type: 'integer' },
    },
  },
];

/** Pagination attributes every paginated endpoint takes. */
export const PAGINATION: Record<string, ParamDef> = {
  page: { type: 'integer' },
  per_page: { type: 'integer' },
};
