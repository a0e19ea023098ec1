import { createNote } from './handlers-notes.js';
import {
  type AwardState,
  type IssueState,
  type MergeRequestState,
  type NoteState,
  now,
  type ProjectState,
  type State,
  type StatusState,
  type UserState,
} from './state.js';

/** GitLab's role names and their access levels. */
export const ROLES = {
  guest: 10,
  planner: 15,
  reporter: 20,
  developer: 30,
  maintainer: 40,
  owner: 50,
} as const;
export type Role = keyof typeof ROLES;

/** What tests do to the fake directly (as people using GitLab's web UI would) and read back. */
export class FakeGitLabSeeds {
  constructor(readonly state: State) {}

  addUser(username: string, options: { name?: string; bot?: boolean } = {}): UserState {
    const existing = this.state.userByName(username);
    if (existing) return existing;
    const user: UserState = {
      id: this.state.nextId(),
      username,
      name: options.name ?? username,
      bot: options.bot ?? false,
      state: 'active',
    };
    this.state.users.set(user.id, user);
    return user;
  }

  user(username: string): UserState {
    const found = this.state.userByName(username);
    if (!found) throw new Error(`no user ${username}`);
    return found;
  }

  /** A project at `group/sub/project`; its groups are created as needed. */
  addProject(path: string, options: { defaultBranch?: string } = {}): ProjectState {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const group = parts.slice(0, i).join('/').toLowerCase();
      if (!this.state.groups.has(group)) this.state.groups.set(group, { path: group, members: new Map() });
    }
    const project: ProjectState = {
      id: this.state.nextId(),
      path,
      defaultBranch: options.defaultBranch ?? 'main',
      members: new Map(),
      nextIssueIid: 1,
      nextMergeRequestIid: 1,
    };
    this.state.projects.set(project.id, project);
    return project;
  }

  project(path: string): ProjectState {
    const found = this.state.project(path);
    if (!found) throw new Error(`no project ${path}`);
    return found;
  }

  /** Direct project membership; `none` removes it. */
  setRole(projectPath: string, username: string, role: Role | 'none'): void {
    const user = this.addUser(username);
    const members = this.project(projectPath).members;
    if (role === 'none') members.delete(user.id);
    else members.set(user.id, ROLES[role]);
  }

  /** A (private) group at `group/sub`, its parents created as needed. */
  addGroup(path: string): void {
    const parts = path.toLowerCase().split('/');
    for (let i = 1; i <= parts.length; i++) {
      const group = parts.slice(0, i).join('/');
      if (!this.state.groups.has(group)) this.state.groups.set(group, { path: group, members: new Map() });
    }
  }

  /** Group membership, inherited by every project below the group. */
  setGroupRole(groupPath: string, username: string, role: Role): void {
    const group = this.state.groups.get(groupPath.toLowerCase());
    if (!group) throw new Error(`no group ${groupPath}`);
    group.members.set(this.addUser(username).id, ROLES[role]);
  }

  addIssue(
    projectPath: string,
    input: { title: string; description?: string; author: string; iid?: number; confidential?: boolean },
  ): IssueState {
    const project = this.project(projectPath);
    const iid = input.iid ?? project.nextIssueIid;
    project.nextIssueIid = Math.max(project.nextIssueIid, iid + 1);
    const issue: IssueState = {
      id: this.state.nextId(),
      iid,
      projectId: project.id,
      title: input.title,
      description: input.description ?? '',
      authorId: this.addUser(input.author).id,
      state: 'opened',
      confidential: input.confidential ?? false,
      createdAt: now(),
    };
    this.state.issues.push(issue);
    return issue;
  }

  issue(projectPath: string, iid: number): IssueState | undefined {
    return this.state.issue(this.project(projectPath).id, iid);
  }

  /** A merge request opened by a person; `fromProject` makes it a fork's merge request. */
  addMergeRequest(
    projectPath: string,
    input: {
      sourceBranch: string;
      title: string;
      description?: string;
      author: string;
      fromProject?: string;
    },
  ): MergeRequestState {
    const project = this.project(projectPath);
    const source = input.fromProject
      ? (this.state.project(input.fromProject) ?? this.addProject(input.fromProject))
      : project;
    const at = now();
    const mr: MergeRequestState = {
      id: this.state.nextId(),
      iid: project.nextMergeRequestIid++,
      projectId: project.id,
      sourceProjectId: source.id,
      sourceBranch: input.sourceBranch,
      targetBranch: project.defaultBranch,
      title: input.title,
      description: input.description ?? '',
      authorId: this.addUser(input.author).id,
      state: 'opened',
      createdAt: at,
      updatedAt: at,
    };
    this.state.mergeRequests.push(mr);
    return mr;
  }

  mergeRequests(projectPath: string): MergeRequestState[] {
    const id = this.project(projectPath).id;
    return this.state.mergeRequests.filter((m) => m.projectId === id);
  }

  mergeRequest(projectPath: string, iid: number): MergeRequestState {
    const found = this.state.mergeRequest(this.project(projectPath).id, iid);
    if (!found) throw new Error(`no merge request !${iid} in ${projectPath}`);
    return found;
  }

  /** Moves the merge request's source to another project (a fork of this one). */
  makeFork(projectPath: string, iid: number, forkPath: string): void {
    const fork = this.state.project(forkPath) ?? this.addProject(forkPath);
    this.mergeRequest(projectPath, iid).sourceProjectId = fork.id;
  }

  setMergeRequestState(projectPath: string, iid: number, state: MergeRequestState['state']): void {
    const mr = this.mergeRequest(projectPath, iid);
    mr.state = state;
    mr.updatedAt = now();
  }

  /** A standalone note by `author` on an issue or merge request. */
  addNote(
    projectPath: string,
    on: { type: 'issue' | 'merge_request'; iid: number },
    input: { body: string; author: string; system?: boolean },
  ): NoteState {
    const project = this.project(projectPath);
    const noteable =
      on.type === 'issue'
        ? this.state.issue(project.id, on.iid)
        : this.state.mergeRequest(project.id, on.iid);
    if (!noteable) throw new Error(`no ${on.type} ${on.iid} in ${projectPath}`);
    return createNote(
      this.state,
      {
        projectId: project.id,
        type: on.type === 'issue' ? 'Issue' : 'MergeRequest',
        iid: on.iid,
        noteableId: noteable.id,
        body: input.body,
        authorId: this.addUser(input.author).id,
      },
      { system: input.system ?? false },
    );
  }

  /** A new thread on a merge request (optionally on a diff line), opened by `author`. */
  startThread(
    projectPath: string,
    iid: number,
    input: { body: string; author: string; path?: string; line?: number },
  ): NoteState {
    const note = this.addNote(projectPath, { type: 'merge_request', iid }, input);
    note.type = input.path ? 'DiffNote' : 'DiscussionNote';
    note.resolvable = true;
    if (input.path) note.position = { new_path: input.path, new_line: input.line ?? 1 };
    return note;
  }

  /** A person's reply in a thread. */
  replyInThread(
    projectPath: string,
    discussionId: string,
    input: { body: string; author: string },
  ): NoteState {
    const first = [...this.state.notes.values()].find((n) => n.discussionId === discussionId);
    if (!first) throw new Error(`no thread ${discussionId}`);
    if (first.type === null) {
      first.type = 'DiscussionNote';
      first.resolvable = true;
    }
    return createNote(
      this.state,
      {
        projectId: this.project(projectPath).id,
        type: first.noteableType,
        iid: first.noteableIid,
        noteableId: first.noteableId,
        body: input.body,
        authorId: this.addUser(input.author).id,
      },
      { discussionId, type: first.type, resolvable: first.resolvable },
    );
  }

  resolveThread(discussionId: string): void {
    for (const n of this.state.notes.values()) if (n.discussionId === discussionId) n.resolved = true;
  }

  deleteNote(id: number): void {
    this.state.notes.delete(id);
  }

  /** Notes on an issue or merge request (threads included), oldest first. */
  notes(projectPath: string, on: { type: 'issue' | 'merge_request'; iid: number }): NoteState[] {
    return this.state.notesOf(
      this.project(projectPath).id,
      on.type === 'issue' ? 'Issue' : 'MergeRequest',
      on.iid,
    );
  }

  threadNotes(discussionId: string): NoteState[] {
    return [...this.state.notes.values()]
      .filter((n) => n.discussionId === discussionId)
      .sort((a, b) => a.id - b.id);
  }

  awards(noteId: number): AwardState[] {
    return this.state.awards.filter((a) => a.noteId === noteId);
  }

  statuses(projectPath: string): StatusState[] {
    const id = this.project(projectPath).id;
    return this.state.statuses.filter((s) => s.projectId === id).sort((a, b) => a.id - b.id);
  }

  usernameOf(userId: number): string {
    return this.state.users.get(userId)?.username ?? `user${userId}`;
  }
}
