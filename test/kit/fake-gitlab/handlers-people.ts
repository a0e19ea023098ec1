import { type Handler, notFound, paginate, projectOf } from './context.js';
import { member, user, userBasic } from './shapes.js';

/** Users and project membership. */
export const peopleHandlers: Record<string, Handler> = {
  'users/current': (req, ctx) => ({ status: 200, body: user(ctx, req.caller) }),

  'users/list': (req, ctx) => {
    let users = [...ctx.state.users.values()];
    if (typeof req.attrs.username === 'string') {
      const wanted = req.attrs.username.toLowerCase();
      users = users.filter((u) => u.username.toLowerCase() === wanted);
    }
    if (req.attrs.active === true) users = users.filter((u) => u.state === 'active');
    if (req.attrs.humans === true || req.attrs.exclude_humans === false) users = users.filter((u) => !u.bot);
    const { page, headers } = paginate(users, req);
    return { status: 200, body: page.map((u) => userBasic(ctx, u)), headers };
  },

  'users/get': (req, ctx) => {
    const found = ctx.state.users.get(req.attrs.id as number);
    if (!found) throw notFound('User');
    return { status: 200, body: user(ctx, found) };
  },

  'members/get-all': (req, ctx) => {
    const project = projectOf(req);
    const found = ctx.state.users.get(req.attrs.user_id as number);
    const level = found ? ctx.state.accessLevel(project, found.id) : 0;
    if (!found || level === 0) throw notFound();
    return { status: 200, body: { ...member(ctx, found, level), state: found.state } };
  },

  /** Only by path; a group the caller cannot see is a 404, like one that does not exist. */
  'group-members/get-all': (req, ctx) => {
    const path = String(req.attrs.id);
    if (!ctx.state.groups.has(path.toLowerCase()) || !ctx.state.canSeeGroup(path, req.caller.id))
      throw notFound('Group');
    const found = ctx.state.users.get(req.attrs.user_id as number);
    const level = found ? ctx.state.groupAccessLevel(path, found.id) : 0;
    if (!found || level === 0) throw notFound();
    return { status: 200, body: { ...member(ctx, found, level), state: found.state } };
  },
};
