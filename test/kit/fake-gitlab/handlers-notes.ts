import {
  forbidden,
  GUEST,
  type Handler,
  type HandlerRequest,
  HttpError,
  notFound,
  paginate,
  projectOf,
  requireLevel,
} from './context.js';
import { award, discussion, issue, note } from './shapes.js';
import { discussionId, type NoteableType, type NoteState, now, type State } from './state.js';

/** Issues, notes on issues and merge requests, emoji reactions on notes, merge request threads. */

function noteable(req: HandlerRequest, state: State): { type: NoteableType; iid: number; id: number } {
  const project = projectOf(req);
  if (req.attrs.issue_iid !== undefined) {
    const found = state.issue(project.id, req.attrs.issue_iid as number);
    if (!found) throw notFound();
    return { type: 'Issue', iid: found.iid, id: found.id };
  }
  const found = state.mergeRequest(project.id, req.attrs.merge_request_iid as number);
  if (!found) throw notFound();
  return { type: 'MergeRequest', iid: found.iid, id: found.id };
}

function noteOn(req: HandlerRequest, state: State): NoteState {
  const on = noteable(req, state);
  const found = state.notes.get(req.attrs.note_id as number);
  if (
    !found ||
    found.projectId !== projectOf(req).id ||
    found.noteableType !== on.type ||
    found.noteableIid !== on.iid
  )
    throw notFound();
  return found;
}

function listNotes(req: HandlerRequest, state: State): NoteState[] {
  const on = noteable(req, state);
  const key = req.attrs.order_by === 'updated_at' ? 'updatedAt' : 'createdAt';
  const asc = req.attrs.sort === 'asc';
  const notes = state.notesOf(projectOf(req).id, on.type, on.iid).filter((n) => {
    if (req.attrs.activity_filter === 'only_comments') return !n.system;
    if (req.attrs.activity_filter === 'only_activity') return n.system;
    return true;
  });
  return notes.sort((a, b) => {
    const order = a[key].localeCompare(b[key]) || a.id - b.id;
    return asc ? order : -order;
  });
}

/** A new standalone note (its own discussion), as posted by the caller. */
export function createNote(
  state: State,
  input: {
    projectId: number;
    type: NoteableType;
    iid: number;
    noteableId: number;
    body: string;
    authorId: number;
  },
  extra: Partial<NoteState> = {},
): NoteState {
  const id = state.nextId();
  const at = now();
  const created: NoteState = {
    id,
    projectId: input.projectId,
    noteableType: input.type,
    noteableIid: input.iid,
    noteableId: input.noteableId,
    body: input.body,
    authorId: input.authorId,
    system: false,
    discussionId: discussionId(id),
    type: null,
    resolvable: false,
    resolved: false,
    createdAt: at,
    updatedAt: at,
    ...extra,
  };
  state.notes.set(id, created);
  return created;
}

const list: Handler = (req, ctx) => {
  requireLevel(req, GUEST);
  const { page, headers } = paginate(listNotes(req, ctx.state), req);
  return { status: 200, body: page.map((n) => note(ctx, n)), headers };
};

const create: Handler = (req, ctx) => {
  requireLevel(req, GUEST);
  const on = noteable(req, ctx.state);
  const created = createNote(ctx.state, {
    projectId: projectOf(req).id,
    type: on.type,
    iid: on.iid,
    noteableId: on.id,
    body: req.attrs.body as string,
    authorId: req.caller.id,
  });
  return { status: 201, body: note(ctx, created) };
};

const update: Handler = (req, ctx) => {
  const found = noteOn(req, ctx.state);
  // Only a note's author edits it through the API.
  if (found.authorId !== req.caller.id) throw forbidden();
  if (typeof req.attrs.body === 'string') {
    found.body = req.attrs.body;
    found.updatedAt = now();
  }
  return { status: 200, body: note(ctx, found) };
};

/** `:emoji-name:` names GitLab knows; the fake knows the ones tests use. */
const EMOJI = new Set(['eyes', 'thumbsup', 'thumbsdown', 'rocket', 'tada', 'white_check_mark']);

const react: Handler = (req, ctx) => {
  requireLevel(req, GUEST);
  const found = noteOn(req, ctx.state);
  const name = req.attrs.name as string;
  if (!EMOJI.has(name)) throw notFound('Award Emoji Name is not a valid emoji name');
  if (ctx.state.awards.some((a) => a.noteId === found.id && a.name === name && a.userId === req.caller.id))
    throw new HttpError(404, { message: '404 Award Emoji Name has already been taken Not Found' });
  const created = { id: ctx.state.nextId(), noteId: found.id, name, userId: req.caller.id, createdAt: now() };
  ctx.state.awards.push(created);
  return { status: 201, body: award(ctx, created, found) };
};

export const noteHandlers: Record<string, Handler> = {
  'issues/get': (req, ctx) => {
    requireLevel(req, GUEST);
    const project = projectOf(req);
    const found = ctx.state.issue(project.id, req.attrs.issue_iid as number);
    if (!found) throw notFound();
    return { status: 200, body: issue(ctx, project, found) };
  },
  'issue-notes/list': list,
  'issue-notes/create': create,
  'issue-notes/update': update,
  'mr-notes/list': list,
  'mr-notes/create': create,
  'mr-notes/update': update,
  'issue-note-emoji/create': react,
  'mr-note-emoji/create': react,

  'mr-discussions/list': (req, ctx) => {
    requireLevel(req, GUEST);
    const on = noteable(req, ctx.state);
    const groups = new Map<string, NoteState[]>();
    for (const n of ctx.state.notesOf(projectOf(req).id, on.type, on.iid)) {
      groups.set(n.discussionId, [...(groups.get(n.discussionId) ?? []), n]);
    }
    const { page, headers } = paginate([...groups.values()], req);
    return { status: 200, body: page.map((notes) => discussion(ctx, notes)), headers };
  },

  'mr-discussions/add-note': (req, ctx) => {
    requireLevel(req, GUEST);
    const on = noteable(req, ctx.state);
    const thread = ctx.state
      .notesOf(projectOf(req).id, on.type, on.iid)
      .filter((n) => n.discussionId === req.attrs.discussion_id);
    if (!thread.length) throw notFound();
    const first = thread[0]!;
    // Replying to a standalone comment turns it into a thread.
    if (first.type === null) {
      first.type = 'DiscussionNote';
      first.resolvable = true;
    }
    const created = createNote(
      ctx.state,
      {
        projectId: projectOf(req).id,
        type: on.type,
        iid: on.iid,
        noteableId: on.id,
        body: req.attrs.body as string,
        authorId: req.caller.id,
      },
      { discussionId: first.discussionId, type: first.type, resolvable: true },
    );
    return { status: 201, body: note(ctx, created) };
  },
};
