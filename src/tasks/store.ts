import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Conversation, RepoRef } from '../forge/types.js';
import type { Task } from './types.js';

/** Compare-and-set: write only if nobody changed the task since we read it. */
const CAS_SCRIPT = `
local rev = redis.call('HGET', KEYS[1], 'rev')
if (rev or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'rev', ARGV[2], 'json', ARGV[3])
if ARGV[4] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1`;

/**
 * Points an index key at a new task unless it points at a task that is still open. KEYS[2] is the
 * task key prefix; a missing or closed task may be replaced.
 */
const CLAIM_INDEX_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current then
  local json = redis.call('HGET', KEYS[2] .. current, 'json')
  if json and cjson.decode(json).state ~= 'closed' then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1`;

/** Expires an index key only while it still points at this (closed) task. */
const EXPIRE_INDEX_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`;

export type EventKind = 'state' | 'output' | 'agent' | 'note';

export interface TaskEvent {
  id: string;
  at: string;
  turn: number;
  kind: EventKind;
  text: string;
}

export interface TaskStoreOptions {
  redis: Redis;
  /** Key prefix, so several Forges (or tests) can share one Redis. */
  prefix?: string;
  /** How long a closed task and its log are kept. */
  ttlMs: number;
  /** Event log entries kept per task (Redis Streams, trimmed approximately). */
  maxEvents?: number;
}

/** Durable task records, their lookup indexes, and their event logs, in Redis. */
export class TaskStore {
  readonly prefix: string;
  private readonly redis: Redis;
  private readonly ttlMs: number;
  private readonly maxEvents: number;

  constructor(options: TaskStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? 'forge:';
    this.ttlMs = options.ttlMs;
    this.maxEvents = options.maxEvents ?? 5000;
  }

  private taskKey(id: string): string {
    return `${this.prefix}task:${id}`;
  }
  private eventsKey(id: string): string {
    return `${this.prefix}task:${id}:events`;
  }
  private indexKey(repo: RepoRef, kind: 'issue' | 'cr', n: number): string {
    return `${this.prefix}index:${repo.forge}:${repo.path.toLowerCase()}:${kind}:${n}`;
  }
  get activeSetKey(): string {
    return `${this.prefix}active-tasks`;
  }

  async get(id: string): Promise<Task | undefined> {
    const json = await this.redis.hget(this.taskKey(id), 'json');
    return json ? (JSON.parse(json) as Task) : undefined;
  }

  /**
   * The open task bound to an issue or change request, if any. Core code always says which: on
   * GitLab issue #3 and merge request !3 are different things. A bare number looks at both (GitHub
   * numbers issues and pull requests in one sequence), change request first.
   */
  async findByNumber(repo: RepoRef, on: Conversation | number): Promise<Task | undefined> {
    const number = typeof on === 'number' ? on : on.number;
    const kinds = typeof on === 'number' ? (['cr', 'issue'] as const) : [indexKind(on)];
    for (const kind of kinds) {
      const id = await this.redis.get(this.indexKey(repo, kind, number));
      if (!id) continue;
      const task = await this.get(id);
      if (task && task.state !== 'closed') return task;
    }
    return undefined;
  }

  /**
   * Returns the open task for `number`, creating it with `init` if there is none. Two concurrent
   * callers get the same task (the index is claimed with SET NX).
   */
  async findOrCreate(
    repo: RepoRef,
    on: Conversation | number,
    init: (id: string) => Task,
  ): Promise<{ task: Task; created: boolean }> {
    const number = typeof on === 'number' ? on : on.number;
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.findByNumber(repo, on);
      if (existing) return { task: existing, created: false };
      const id = newTaskId();
      const task = init(id);
      // A bare number is a change request when the task says it was started on one.
      const kind =
        typeof on === 'number' ? (task.changeRequest?.number === number ? 'cr' : 'issue') : indexKind(on);
      const key = this.indexKey(repo, kind, number);
      // The record exists before the index points at it, so no reader ever sees a dangling pointer
      // and mistakes a task being created for one that is gone.
      await this.redis.hset(this.taskKey(id), 'rev', '1', 'json', JSON.stringify(task));
      const claimed = await this.redis.eval(CLAIM_INDEX_SCRIPT, 2, key, this.taskKey(''), id);
      if (claimed === 1) return { task, created: true };
      await this.redis.del(this.taskKey(id));
    }
    throw new Error(`could not claim a task for ${repo.path} #${number}`);
  }

  /** Points a change request number at the task (after the task opened it). */
  async indexChangeRequest(task: Task, number: number): Promise<void> {
    await this.redis.set(this.indexKey(task.repo, 'cr', number), task.id);
  }

  /**
   * Read-modify-write with optimistic concurrency: `mutate` may run more than once, so it must be
   * a pure function of the task it is given. Returns the stored result.
   */
  async update<R>(id: string, mutate: (task: Task) => R): Promise<{ task: Task; result: R }> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const [rev, json] = await this.redis.hmget(this.taskKey(id), 'rev', 'json');
      if (!json) throw new Error(`task ${id} not found`);
      const task = JSON.parse(json) as Task;
      const result = mutate(task);
      const expire = task.state === 'closed' ? String(this.ttlMs) : '';
      const ok = await this.redis.eval(
        CAS_SCRIPT,
        1,
        this.taskKey(id),
        rev ?? '',
        String(Number(rev ?? 0) + 1),
        JSON.stringify(task),
        expire,
      );
      if (ok === 1) {
        if (task.state === 'closed') await this.expireClosed(task);
        return { task, result };
      }
    }
    throw new Error(`task ${id} is changing too fast to update`);
  }

  private async expireClosed(task: Task): Promise<void> {
    const pipeline = this.redis.pipeline();
    pipeline.pexpire(this.eventsKey(task.id), this.ttlMs);
    pipeline.srem(this.activeSetKey, task.id);
    for (const [kind, n] of [
      ['issue', task.issueNumber],
      ['cr', task.changeRequest?.number],
    ] as const) {
      if (n !== undefined)
        pipeline.eval(EXPIRE_INDEX_SCRIPT, 1, this.indexKey(task.repo, kind, n), task.id, String(this.ttlMs));
    }
    await pipeline.exec();
  }

  /** Appends to the task's bounded event log. `text` must already be redacted. */
  async appendEvent(id: string, turn: number, kind: EventKind, text: string): Promise<void> {
    await this.redis.xadd(
      this.eventsKey(id),
      'MAXLEN',
      '~',
      String(this.maxEvents),
      '*',
      'at',
      new Date().toISOString(),
      'turn',
      String(turn),
      'kind',
      kind,
      'text',
      text,
    );
  }

  async events(id: string, options: { after?: string; count?: number } = {}): Promise<TaskEvent[]> {
    const start = options.after ? `(${options.after}` : '-';
    const rows = await this.redis.xrange(this.eventsKey(id), start, '+', 'COUNT', options.count ?? 1000);
    return rows.map(([eventId, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      return {
        id: eventId,
        at: f.at ?? '',
        turn: Number(f.turn),
        kind: (f.kind ?? 'note') as EventKind,
        text: f.text ?? '',
      };
    });
  }

  async markActive(id: string): Promise<void> {
    await this.redis.sadd(this.activeSetKey, id);
  }
  async markIdle(id: string): Promise<void> {
    await this.redis.srem(this.activeSetKey, id);
  }
  async activeTaskIds(): Promise<string[]> {
    return this.redis.smembers(this.activeSetKey);
  }
}

function indexKind(on: Conversation): 'issue' | 'cr' {
  return on.type === 'change_request' ? 'cr' : 'issue';
}

/** Task ids sort by creation time and contain no `:` (BullMQ job ids may not). */
export function newTaskId(now = Date.now()): string {
  return `t${now.toString(36)}${randomBytes(5).toString('hex')}`;
}
