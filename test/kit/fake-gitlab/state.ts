/** The fake GitLab's world: users, groups, projects, memberships and everything Forge reads or writes. */

export interface UserState {
  id: number;
  username: string;
  name: string;
  /** GitLab's `bot` flag: project/group access-token users, service accounts. */
  bot: boolean;
  state: 'active' | 'blocked';
}

export interface ProjectState {
  id: number;
  /** Full path with its groups: `group/sub/project`. */
  path: string;
  defaultBranch: string;
  /** Direct members: user id → access level. */
  members: Map<number, number>;
  nextIssueIid: number;
  nextMergeRequestIid: number;
}

export interface GroupState {
  path: string;
  members: Map<number, number>;
}

export interface IssueState {
  id: number;
  iid: number;
  projectId: number;
  title: string;
  description: string;
  authorId: number;
  state: 'opened' | 'closed';
  confidential: boolean;
  createdAt: string;
}

export interface MergeRequestState {
  id: number;
  iid: number;
  /** The target project (where the merge request lives). */
  projectId: number;
  /** The source project: another one for a fork's merge request. */
  sourceProjectId: number;
  sourceBranch: string;
  targetBranch: string;
  title: string;
  description: string;
  authorId: number;
  state: 'opened' | 'closed' | 'merged' | 'locked';
  createdAt: string;
  updatedAt: string;
}

export type NoteableType = 'Issue' | 'MergeRequest';

export interface NoteState {
  id: number;
  projectId: number;
  noteableType: NoteableType;
  noteableIid: number;
  noteableId: number;
  body: string;
  authorId: number;
  system: boolean;
  discussionId: string;
  /** null: a standalone comment; `DiscussionNote` / `DiffNote`: a note in a thread. */
  type: null | 'DiscussionNote' | 'DiffNote';
  resolvable: boolean;
  resolved: boolean;
  position?: { new_path: string; new_line: number };
  createdAt: string;
  updatedAt: string;
}

export interface AwardState {
  id: number;
  noteId: number;
  name: string;
  userId: number;
  createdAt: string;
}

export type CommitStatus = 'pending' | 'running' | 'success' | 'failed' | 'canceled' | 'skipped';

export interface StatusState {
  id: number;
  projectId: number;
  sha: string;
  ref: string;
  name: string;
  status: CommitStatus;
  description: string | null;
  targetUrl: string | null;
  authorId: number;
  pipelineId: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export class State {
  readonly users = new Map<number, UserState>();
  readonly tokens = new Map<string, number>();
  readonly groups = new Map<string, GroupState>();
  readonly projects = new Map<number, ProjectState>();
  readonly issues: IssueState[] = [];
  readonly mergeRequests: MergeRequestState[] = [];
  readonly notes = new Map<number, NoteState>();
  readonly awards: AwardState[] = [];
  readonly statuses: StatusState[] = [];
  private seq = 1000;

  nextId(): number {
    return ++this.seq;
  }

  userByName(username: string): UserState | undefined {
    const wanted = username.toLowerCase();
    return [...this.users.values()].find((u) => u.username.toLowerCase() === wanted);
  }

  /** By numeric id or full path (GitLab matches paths case-insensitively). */
  project(idOrPath: string): ProjectState | undefined {
    if (/^\d+$/.test(idOrPath)) return this.projects.get(Number(idOrPath));
    const wanted = idOrPath.toLowerCase();
    return [...this.projects.values()].find((p) => p.path.toLowerCase() === wanted);
  }

  /** Direct membership, or the highest level inherited from the project's groups and their parents. */
  accessLevel(project: ProjectState, userId: number): number {
    let level = project.members.get(userId) ?? 0;
    const parts = project.path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const group = this.groups.get(parts.slice(0, i).join('/').toLowerCase());
      level = Math.max(level, group?.members.get(userId) ?? 0);
    }
    return level;
  }

  /** Membership of a group: direct, or the highest level inherited from its parent groups. */
  groupAccessLevel(path: string, userId: number): number {
    const parts = path.toLowerCase().split('/');
    let level = 0;
    for (let i = 1; i <= parts.length; i++) {
      level = Math.max(level, this.groups.get(parts.slice(0, i).join('/'))?.members.get(userId) ?? 0);
    }
    return level;
  }

  /** A private group is visible to members of it, of its parents, and of anything below it. */
  canSeeGroup(path: string, userId: number): boolean {
    const wanted = path.toLowerCase();
    if (this.groupAccessLevel(wanted, userId) > 0) return true;
    const below = (p: string) => p.toLowerCase().startsWith(`${wanted}/`);
    return (
      [...this.groups.values()].some((g) => below(g.path) && g.members.has(userId)) ||
      [...this.projects.values()].some((p) => below(p.path) && p.members.has(userId))
    );
  }

  notesOf(projectId: number, type: NoteableType, iid: number): NoteState[] {
    return [...this.notes.values()]
      .filter((n) => n.projectId === projectId && n.noteableType === type && n.noteableIid === iid)
      .sort((a, b) => a.id - b.id);
  }

  issue(projectId: number, iid: number): IssueState | undefined {
    return this.issues.find((i) => i.projectId === projectId && i.iid === iid);
  }

  mergeRequest(projectId: number, iid: number): MergeRequestState | undefined {
    return this.mergeRequests.find((m) => m.projectId === projectId && m.iid === iid);
  }
}

/** GitLab's discussion ids are 40 hex characters. */
export function discussionId(seed: number): string {
  return seed.toString(16).padStart(8, '0').repeat(5);
}

export function now(): string {
  return new Date().toISOString();
}
