import type { Logger } from 'pino';
import type {
  Actor,
  ChangeRequest,
  CheckReport,
  CommentRef,
  Conversation,
  Forge,
  ForgeWords,
  GitCredentials,
  Issue,
  RepoPermission,
  RepoRef,
  ReviewFeedback,
} from '../types.js';
import { type GitLabClient, statusOf } from './client.js';
import { listReviewFeedback } from './feedback.js';
import {
  draftTitle,
  isAccessTokenBotName,
  mapAccessLevel,
  mapMergeRequest,
  STATUS_NAME,
  statusState,
  statusText,
} from './map.js';

export interface GitLabUser {
  id: number;
  username: string;
}

export interface GitLabForgeOptions {
  api: GitLabClient;
  repo: RepoRef;
  words: ForgeWords;
  token: string;
  /** The token's own user (`GET /user`), fetched once per process. */
  self(): Promise<GitLabUser>;
  /** Waits for this process's turn to write (spacing shared by every Forge process). */
  beforeWrite(): Promise<void>;
  /** Where what Forge leaves out of a request is said (a task link too long for GitLab). */
  log?: Pick<Logger, 'warn'>;
}

const LONG_LINK =
  'the task link is over the 255 characters GitLab takes as a commit status target URL, so the status has no link; a shorter FORGE_PUBLIC_URL fixes it';

interface NoteLike {
  id: number;
  body: string;
  author?: { id?: number } | null;
}

/**
 * The Forge interface over GitLab's REST API for one project (`group/sub/project`; gitbeaker
 * URL-encodes it as the project id in every path). Issues (`#n`) and merge requests (`!n`) are
 * numbered apart, so every comment goes where its `Conversation` says.
 */
export class GitLabForge implements Forge {
  readonly kind = 'gitlab' as const;
  readonly repo: RepoRef;
  readonly words: ForgeWords;
  private readonly api: GitLabClient;
  private readonly project: string;

  constructor(private readonly options: GitLabForgeOptions) {
    this.api = options.api;
    this.repo = options.repo;
    this.words = options.words;
    this.project = options.repo.path;
  }

  /** Direct and inherited (group) membership; a user who is neither has no access. */
  async getPermission(login: string): Promise<RepoPermission> {
    const users = (await this.api.users.all({ username: login })) as unknown as GitLabUser[];
    const user = users.find((u) => u.username.toLowerCase() === login.toLowerCase());
    if (!user) return 'none';
    try {
      const member = (await this.api.members.show(this.project, user.id, { includeInherited: true })) as {
        access_level: number;
        state?: string | null;
      };
      return mapAccessLevel(member.access_level, member.state);
    } catch (error) {
      if (statusOf(error) === 404) return 'none';
      throw error;
    }
  }

  /**
   * Direct or inherited membership of the group at `team` (`group` or `group/subgroup`), active and
   * at least Guest (Minimal Access is no membership). Forge's user must be able to see the group:
   * GitLab answers 404 for a group it cannot see, which counts as no membership.
   */
  async isTeamMember(team: string, login: string): Promise<boolean> {
    const users = (await this.api.users.all({ username: login })) as unknown as GitLabUser[];
    const user = users.find((u) => u.username.toLowerCase() === login.toLowerCase());
    if (!user) return false;
    try {
      const member = (await this.api.groupMembers.show(team, user.id, { includeInherited: true })) as {
        access_level: number;
        state?: string | null;
      };
      return (member.state ?? 'active') === 'active' && member.access_level >= 10;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  /** Forge's own user, access-token bots (by name) and every user GitLab flags as a bot. */
  async isBot(actor: Actor): Promise<boolean> {
    if (actor.isBot || isAccessTokenBotName(actor.login)) return true;
    const self = await this.options.self();
    if (actor.id === self.id || actor.login.toLowerCase() === self.username.toLowerCase()) return true;
    try {
      const user = (await this.api.users.show(actor.id)) as { bot?: boolean; username?: string };
      return user.bot === true || isAccessTokenBotName(user.username ?? '');
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  async getIssue(number: number): Promise<Issue> {
    const issue = (await this.api.issues.show(number, { projectId: this.project })) as {
      iid: number;
      title: string;
      description: string | null;
      web_url: string;
    };
    return {
      number: issue.iid,
      title: issue.title,
      body: issue.description ?? '',
      url: issue.web_url,
      isChangeRequest: false,
    };
  }

  async getChangeRequest(number: number): Promise<ChangeRequest> {
    return mapMergeRequest(await this.mergeRequest(number));
  }

  async findOpenChangeRequest(headBranch: string): Promise<ChangeRequest | undefined> {
    const open = (await this.api.mergeRequests.all({
      projectId: this.project,
      sourceBranch: headBranch,
      state: 'opened',
    })) as unknown as Parameters<typeof mapMergeRequest>[0][];
    // A fork's merge request may use the same branch name in its own project: not ours.
    const mine = open.map(mapMergeRequest).find((mr) => mr.headBranch === headBranch && !mr.isFork);
    return mine;
  }

  async branchExists(branch: string): Promise<boolean> {
    try {
      await this.api.branches.show(this.project, branch);
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  async readFile(path: string, ref: string): Promise<string | undefined> {
    try {
      const raw: unknown = await this.api.files.showRaw(this.project, path, ref);
      if (typeof raw === 'string') return raw;
      // Served with a non-text content type, gitbeaker hands over a Blob.
      if (raw instanceof Blob) return await raw.text();
      return undefined;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async addReaction(comment: CommentRef, reaction: 'eyes'): Promise<void> {
    await this.options.beforeWrite();
    try {
      if (comment.place.type === 'issue') {
        await this.api.issueNoteEmojis.award(this.project, comment.place.number, comment.id, reaction);
      } else {
        await this.api.mergeRequestNoteEmojis.award(this.project, comment.place.number, comment.id, reaction);
      }
    } catch (error) {
      // GitLab answers a repeated award with 404 "Award Emoji Name has already been taken".
      if (statusOf(error) === 404 && /already been taken/i.test((error as Error).message)) return;
      throw error;
    }
  }

  async postComment(on: Conversation, body: string): Promise<{ id: number }> {
    await this.options.beforeWrite();
    const note =
      on.type === 'issue'
        ? await this.api.issueNotes.create(this.project, on.number, body)
        : await this.api.mergeRequestNotes.create(this.project, on.number, body);
    return { id: (note as { id: number }).id };
  }

  async ensureComment(
    on: Conversation,
    marker: string,
    body: string,
    knownId?: number,
  ): Promise<{ id: number }> {
    const text = body.includes(marker) ? body : `${marker}\n${body}`;
    if (knownId !== undefined) {
      try {
        await this.editNote(on, knownId, text);
        return { id: knownId };
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
    }
    const existing = await this.findNoteWith(on, marker);
    if (existing !== undefined) {
      await this.editNote(on, existing, text);
      return { id: existing };
    }
    return this.postComment(on, text);
  }

  async replyInThread(number: number, threadId: string, body: string): Promise<{ id: number }> {
    await this.options.beforeWrite();
    const note = (await this.api.discussions.addNote(this.project, number, threadId, body)) as { id: number };
    return { id: note.id };
  }

  listReviewFeedback(number: number): Promise<ReviewFeedback> {
    return listReviewFeedback(this.api, this.project, number, { webUrl: this.repo.webUrl });
  }

  /**
   * A commit status named `Forge` on the commit (the merge request's head once there is one).
   * GitLab updates the pending or running status with the same commit, ref and name in place and
   * refuses to post `running` over `running`, so an update of a running status is only sent when
   * it finishes.
   */
  async reportCheck(report: CheckReport, knownId?: number): Promise<{ id: number }> {
    const started = knownId !== undefined;
    const state = statusState(report, started);
    if (started && (state === 'running' || state === 'pending')) return { id: knownId };
    if (!report.sha) throw new Error('a GitLab commit status needs the commit it is on');
    // GitLab refuses a target URL over 255 characters: the status goes without its link, and says so.
    const link = report.detailsUrl;
    if (link && link.length > 255)
      this.options.log?.warn({ repo: this.project, length: link.length }, LONG_LINK);
    await this.options.beforeWrite();
    // gitbeaker's type predates GitLab's `skipped` state; the API takes it.
    const status = (await this.api.commits.editStatus(this.project, report.sha, state as 'pending', {
      name: STATUS_NAME,
      description: statusText(report.title),
      ...(report.ref ? { ref: report.ref } : {}),
      ...(link && link.length <= 255 ? { targetUrl: link } : {}),
    })) as { id: number };
    return { id: status.id };
  }

  async createChangeRequest(input: {
    head: string;
    base: string;
    title: string;
    body: string;
    draft: boolean;
  }): Promise<ChangeRequest> {
    await this.options.beforeWrite();
    try {
      const mr = await this.api.mergeRequests.create(
        this.project,
        input.head,
        input.base,
        draftTitle(input.title, input.draft),
        { description: input.body },
      );
      return mapMergeRequest(mr as unknown as Parameters<typeof mapMergeRequest>[0]);
    } catch (error) {
      // A retried job may find the merge request it opened the first time (409: one already exists).
      if (statusOf(error) === 409) {
        const existing = await this.findOpenChangeRequest(input.head);
        if (existing) return existing;
      }
      throw error;
    }
  }

  /** A new title keeps the merge request's draft state (GitLab reads it from the title). */
  async updateChangeRequest(number: number, input: { title?: string; body?: string }): Promise<void> {
    let title: string | undefined;
    if (input.title !== undefined) {
      const mr = (await this.mergeRequest(number)) as { draft?: boolean };
      title = draftTitle(input.title, mr.draft === true);
    }
    await this.options.beforeWrite();
    await this.api.mergeRequests.edit(this.project, number, {
      ...(title !== undefined ? { title } : {}),
      ...(input.body !== undefined ? { description: input.body } : {}),
    });
  }

  /** The bot's token as HTTP Basic credentials (GitLab takes any user name with a token; `oauth2` is customary). */
  async gitCredentials(): Promise<GitCredentials> {
    return { username: 'oauth2', password: this.options.token };
  }

  private async mergeRequest(number: number) {
    return (await this.api.mergeRequests.show(this.project, number)) as unknown as Parameters<
      typeof mapMergeRequest
    >[0] & { draft?: boolean };
  }

  private async editNote(on: Conversation, noteId: number, body: string): Promise<void> {
    await this.options.beforeWrite();
    if (on.type === 'issue') await this.api.issueNotes.edit(this.project, on.number, noteId, { body });
    else await this.api.mergeRequestNotes.edit(this.project, on.number, noteId, { body });
  }

  /** Forge's own note carrying `marker`, on every page; others' notes are never taken for it. */
  private async findNoteWith(on: Conversation, marker: string): Promise<number | undefined> {
    const self = await this.options.self();
    const options = { sort: 'asc' as const, orderBy: 'created_at' as const, perPage: 100 };
    const notes = (on.type === 'issue'
      ? await this.api.issueNotes.all(this.project, on.number, options)
      : await this.api.mergeRequestNotes.all(this.project, on.number, options)) as unknown as NoteLike[];
    return notes.find((n) => n.author?.id === self.id && n.body.includes(marker))?.id;
  }
}
