import {
  DEVELOPER,
  type FakeContext,
  type Handler,
  HttpError,
  notFound,
  paginate,
  projectOf,
  REPORTER,
  requireLevel,
} from './context.js';
import { branch, mergeRequest, status } from './shapes.js';
import {
  type CommitStatus,
  type MergeRequestState,
  now,
  type ProjectState,
  type StatusState,
} from './state.js';

/** Merge requests, branches, files and commit statuses: the repository itself is the real git server. */

/** A merge request's head: its source branch in its source project (a fork's may be gone: null). */
async function headSha(ctx: FakeContext, mr: MergeRequestState): Promise<string | null> {
  const source = ctx.state.projects.get(mr.sourceProjectId);
  if (!source) return null;
  return (await ctx.hooks.branchSha(source.path, mr.sourceBranch)) ?? null;
}

async function shape(ctx: FakeContext, project: ProjectState, mr: MergeRequestState) {
  return mergeRequest(ctx, project, mr, await headSha(ctx, mr));
}

/** GitLab's errors for an invalid new merge request (`validate_branches` answers 409). */
const conflict = (message: string) => new HttpError(409, { message: [message] });

const ACTIVE = new Set<CommitStatus>(['pending', 'running']);

/**
 * The commit status state machine (app/models/concerns/ci/has_status.rb, commit_status.rb), as the
 * API applies it (app/services/ci/create_commit_status_service.rb): `running` enqueues quietly then
 * runs, every other state is a strict transition that fails with GitLab's message.
 */
function transition(s: StatusState, to: CommitStatus, created: boolean): string | undefined {
  const from: CommitStatus | 'created' = created ? 'created' : s.status;
  const fail = (event: string) =>
    `Cannot transition status via :${event} from :${from} (Reason(s): Status cannot transition via "${event}")`;
  const at = now();
  switch (to) {
    case 'pending':
      if (from !== 'created') return fail('enqueue');
      break;
    case 'running':
      if (from !== 'created' && from !== 'pending') return fail('run');
      s.startedAt = at;
      break;
    case 'skipped':
      if (from !== 'created' && from !== 'pending') return fail('skip');
      s.finishedAt = at;
      break;
    default:
      if (from !== 'created' && !ACTIVE.has(from))
        return fail({ success: 'success', failed: 'drop', canceled: 'cancel' }[to]);
      s.finishedAt = at;
  }
  s.status = to;
  return undefined;
}

export const repoHandlers: Record<string, Handler> = {
  'merge-requests/list': async (req, ctx) => {
    requireLevel(req, REPORTER);
    const project = projectOf(req);
    const state = (req.attrs.state as string | undefined) ?? 'all';
    const iids = req.attrs.iids as number[] | undefined;
    const found = ctx.state.mergeRequests
      .filter((m) => m.projectId === project.id)
      .filter((m) => state === 'all' || m.state === state)
      .filter((m) => req.attrs.source_branch === undefined || m.sourceBranch === req.attrs.source_branch)
      .filter((m) => req.attrs.target_branch === undefined || m.targetBranch === req.attrs.target_branch)
      .filter((m) => !iids || iids.includes(m.iid))
      .sort((a, b) => (req.attrs.sort === 'asc' ? a.id - b.id : b.id - a.id));
    const { page, headers } = paginate(found, req);
    return { status: 200, body: await Promise.all(page.map((m) => shape(ctx, project, m))), headers };
  },

  'merge-requests/get': async (req, ctx) => {
    requireLevel(req, REPORTER);
    const project = projectOf(req);
    const mr = ctx.state.mergeRequest(project.id, req.attrs.merge_request_iid as number);
    if (!mr) throw notFound();
    return { status: 200, body: await shape(ctx, project, mr) };
  },

  'merge-requests/create': async (req, ctx) => {
    requireLevel(req, DEVELOPER);
    const project = projectOf(req);
    const source = req.attrs.source_branch as string;
    const target = req.attrs.target_branch as string;
    const title = req.attrs.title as string;
    if (req.attrs.target_project_id !== undefined && req.attrs.target_project_id !== project.id)
      throw new HttpError(422, { message: ['Target project must be this project or its fork source'] });
    if (source === target) throw conflict("You can't use same project/branch for source and target");
    if (!(await ctx.hooks.branchSha(project.path, source)))
      throw conflict(`Source branch "${source}" does not exist`);
    if (!(await ctx.hooks.branchSha(project.path, target)))
      throw conflict(`Target branch "${target}" does not exist`);
    const open = ctx.state.mergeRequests.find(
      (m) =>
        m.projectId === project.id &&
        m.sourceProjectId === project.id &&
        m.sourceBranch === source &&
        m.targetBranch === target &&
        m.state === 'opened',
    );
    if (open)
      throw conflict(`Another open merge request already exists for this source branch: !${open.iid}`);
    const at = now();
    const mr: MergeRequestState = {
      id: ctx.state.nextId(),
      iid: project.nextMergeRequestIid++,
      projectId: project.id,
      sourceProjectId: project.id,
      sourceBranch: source,
      targetBranch: target,
      title,
      description: (req.attrs.description as string | undefined) ?? '',
      authorId: req.caller.id,
      state: 'opened',
      createdAt: at,
      updatedAt: at,
    };
    ctx.state.mergeRequests.push(mr);
    return { status: 201, body: await shape(ctx, project, mr) };
  },

  'merge-requests/update': async (req, ctx) => {
    const project = projectOf(req);
    const mr = ctx.state.mergeRequest(project.id, req.attrs.merge_request_iid as number);
    if (!mr) throw notFound();
    if (req.level < DEVELOPER && mr.authorId !== req.caller.id)
      throw new HttpError(403, { message: '403 Forbidden' });
    if (typeof req.attrs.title === 'string') mr.title = req.attrs.title;
    if (typeof req.attrs.description === 'string') mr.description = req.attrs.description;
    if (typeof req.attrs.target_branch === 'string') mr.targetBranch = req.attrs.target_branch;
    if (req.attrs.state_event === 'close' && mr.state === 'opened') mr.state = 'closed';
    if (req.attrs.state_event === 'reopen' && mr.state === 'closed') mr.state = 'opened';
    mr.updatedAt = now();
    return { status: 200, body: await shape(ctx, project, mr) };
  },

  'branches/get': async (req, ctx) => {
    requireLevel(req, REPORTER);
    const project = projectOf(req);
    const name = req.attrs.branch as string;
    const sha = await ctx.hooks.branchSha(project.path, name);
    if (!sha) throw notFound('Branch');
    return { status: 200, body: branch(ctx, project, name, sha) };
  },

  'files/get-raw': async (req, ctx) => {
    requireLevel(req, REPORTER);
    const project = projectOf(req);
    const ref = (req.attrs.ref as string | undefined) ?? project.defaultBranch;
    const text = await ctx.hooks.fileAt(project.path, ref, req.attrs.file_path as string);
    if (text === undefined) throw notFound('File');
    return { status: 200, text, headers: { 'content-type': 'text/plain; charset=utf-8' } };
  },

  'statuses/create': async (req, ctx) => {
    requireLevel(req, DEVELOPER);
    const project = projectOf(req);
    const sha = req.attrs.sha as string;
    if (!(await ctx.hooks.commitExists(project.path, sha))) throw notFound('Commit');
    const ref =
      (req.attrs.ref as string | undefined) ?? (await ctx.hooks.branchesContaining(project.path, sha))[0];
    if (!ref) throw notFound('References for commit');
    const name =
      (req.attrs.name as string | undefined) ?? (req.attrs.context as string | undefined) ?? 'default';
    // A pending or running status with the same commit, ref and name (by the same user) is updated in place.
    let target = ctx.state.statuses.find(
      (s) =>
        s.projectId === project.id &&
        s.sha === sha &&
        s.ref === ref &&
        s.name === name &&
        s.authorId === req.caller.id &&
        ACTIVE.has(s.status),
    );
    const created = !target;
    target ??= {
      id: ctx.state.nextId(),
      projectId: project.id,
      sha,
      ref,
      name,
      status: 'pending',
      description: null,
      targetUrl: null,
      authorId: req.caller.id,
      pipelineId: ctx.state.nextId(),
      createdAt: now(),
      startedAt: null,
      finishedAt: null,
    };
    const candidate = { ...target };
    if (req.attrs.description !== undefined) candidate.description = req.attrs.description as string;
    if (req.attrs.target_url !== undefined) {
      const url = req.attrs.target_url as string;
      if (!/^https?:\/\/\S+$/.test(url))
        throw new HttpError(400, { message: { target_url: ['must be a valid URL'] } });
      candidate.targetUrl = url;
    }
    const problem = transition(candidate, req.attrs.state as CommitStatus, created);
    if (problem) throw new HttpError(400, { message: problem });
    if (created) ctx.state.statuses.push(candidate);
    else Object.assign(target, candidate);
    return { status: 201, body: status(ctx, created ? candidate : target) };
  },
};
