/**
 * Runs each agent turn in its own hardened container on a Docker engine (via dockerode; the
 * engine is whatever the given client points at — DOCKER_HOST by default). The host keeps the
 * checkout, clone, commit and push; the container gets the checkout, the task's home and a
 * scratch dir as bind mounts, an environment of exactly the spec's variables, and nothing else.
 * See container-spec.ts for the hardening and labels.ts for how orphans are told from live turns.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { DEFAULT_MAX_LINE_BYTES } from '../lines.js';
import type { Sandbox, SandboxLimits, SandboxSession, SandboxSpec } from '../types.js';
import {
  containerOptions,
  DEFAULT_NOFILE,
  parseSandboxUser,
  resolveLimits,
  type SandboxUser,
} from './container-spec.js';
import { DockerSandboxSession } from './docker-session.js';
import { engineMessage, engineUnreachable, isConnectionError, startFailed, statusOf } from './errors.js';
import { LABEL_MANAGED, LABEL_SCRATCH, orphanReason, ownerAlive, ownerLabel } from './labels.js';
import { handOver, type OwnershipPlan, ownershipPlan } from './ownership.js';

export interface DockerSandboxOptions {
  docker: Docker;
  /** Image used when the spec names none (FORGE_AGENT_IMAGE). */
  image: string;
  /** Stable id of this worker (labels; its own leftovers are reaped at start-up). */
  workerId: string;
  /** `uid:gid` inside the container; never root. Default 1000:1000. */
  user?: string;
  /** Docker network; default `none`. */
  network?: string;
  /** Defaults for every container; a spec's limits win field by field. */
  limits?: SandboxLimits;
  /** Open-files limit per process (soft = hard); default 16384, at most 20000. */
  nofile?: number;
  /**
   * Host parent of the per-turn scratch dirs. Bind mounts resolve on the engine's host, so with a
   * worker in a container this must be a path that is the same there (under FORGE_WORKSPACE_DIR).
   */
  scratchRoot?: string;
  /** Longest a container may live (turn timeout plus slack); default 2 h. */
  maxLifetimeMs?: number;
  /** Between SIGTERM to the agent's processes and killing the container. Default 5 s. */
  killGraceMs?: number;
  /** How long to keep reading after the command exited while a background child holds its output. */
  drainGraceMs?: number;
  /** How often a running exec is polled for its exit. Default 1 s. */
  exitPollMs?: number;
  maxLineBytes?: number;
  log?: Pick<Logger, 'info' | 'warn'>;
}

function slug(value: string, max: number): string {
  return (
    value
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, max) || 'x'
  );
}

export class DockerSandbox implements Sandbox {
  readonly kind = 'docker' as const;
  readonly #docker: Docker;
  readonly #image: string;
  readonly #workerId: string;
  readonly #user: SandboxUser;
  readonly #network: string;
  readonly #limits: SandboxLimits;
  readonly #nofile: number;
  readonly #scratchRoot: string;
  readonly #maxLifetimeMs: number;
  readonly #killGraceMs: number;
  readonly #drainGraceMs: number;
  readonly #exitPollMs: number;
  readonly #maxLineBytes: number;
  readonly #log: Pick<Logger, 'info' | 'warn'> | undefined;
  readonly #owner = ownerLabel();
  /** Names of containers this process created and has not destroyed (or is creating). */
  readonly #live = new Set<string>();
  /** How files the worker creates become the sandbox user's (decided once: a bad setup fails at start-up). */
  readonly #ownership: OwnershipPlan;

  constructor(options: DockerSandboxOptions) {
    this.#docker = options.docker;
    this.#image = options.image;
    if (!options.workerId) throw new TypeError('DockerSandbox needs a workerId');
    this.#workerId = options.workerId;
    this.#user = parseSandboxUser(options.user ?? '1000:1000');
    this.#ownership = ownershipPlan(this.#user);
    this.#network = options.network ?? 'none';
    this.#limits = options.limits ?? {};
    this.#nofile = Math.min(options.nofile ?? DEFAULT_NOFILE, 20_000);
    this.#scratchRoot = resolve(options.scratchRoot ?? join(tmpdir(), 'forge-sandbox'));
    this.#maxLifetimeMs = options.maxLifetimeMs ?? 2 * 3_600_000;
    this.#killGraceMs = options.killGraceMs ?? 5_000;
    this.#drainGraceMs = options.drainGraceMs ?? 2_000;
    this.#exitPollMs = options.exitPollMs ?? 1_000;
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#log = options.log;
  }

  /** Checks the engine answers and the default image is there, for a clear error at start-up. */
  async check(image = this.#image): Promise<void> {
    try {
      await this.#docker.getImage(image).inspect();
    } catch (error) {
      throw startFailed(this.#docker, image, error);
    }
  }

  async create(spec: SandboxSpec): Promise<SandboxSession> {
    const image = spec.image ?? this.#image;
    const limits = resolveLimits(this.#limits, spec.limits);
    const plan = this.#ownership;
    await mkdir(spec.homeDir, { recursive: true });
    await mkdir(this.#scratchRoot, { recursive: true, mode: 0o711 });
    const hostScratchDir = await mkdtemp(join(this.#scratchRoot, 'forge-scratch-'));
    const name = `forge-${slug(spec.labels['forge.task'] ?? 'turn', 40)}-${randomBytes(5).toString('hex')}`;
    const deadline = Date.now() + this.#maxLifetimeMs;
    this.#live.add(name);
    let container: Docker.Container | undefined;
    try {
      // Before the container exists, so nothing in it can race the walk.
      await handOver([spec.checkoutDir, spec.homeDir, hostScratchDir], this.#user, plan);
      container = await this.#docker.createContainer(
        containerOptions({
          name,
          image,
          spec,
          hostScratchDir,
          user: this.#user,
          network: this.#network,
          limits,
          nofile: this.#nofile,
          workerId: this.#workerId,
          owner: this.#owner,
          deadline,
        }),
      );
      await container.start();
    } catch (error) {
      this.#live.delete(name);
      await container?.remove({ force: true }).catch(() => undefined);
      await rm(hostScratchDir, { recursive: true, force: true });
      throw startFailed(this.#docker, image, error);
    }
    return new DockerSandboxSession({
      docker: this.#docker,
      container,
      user: this.#user,
      memoryMb: limits.memoryMb,
      deadline,
      hostHomeDir: spec.homeDir,
      hostScratchDir,
      killGraceMs: this.#killGraceMs,
      drainGraceMs: this.#drainGraceMs,
      exitPollMs: this.#exitPollMs,
      maxLineBytes: this.#maxLineBytes,
      handOver: () => handOver([spec.homeDir, hostScratchDir], this.#user, plan),
      onDestroyed: () => this.#live.delete(name),
    });
  }

  /**
   * Removes agent containers no live turn uses: this worker's leftovers from an earlier run (or a
   * failed destroy), and any worker's containers past their deadline. Live turns of other workers
   * sharing the engine are left alone. Returns how many were removed.
   */
  async reapOrphans(): Promise<number> {
    let list: Docker.ContainerInfo[];
    try {
      list = await this.#docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`] } });
    } catch (error) {
      if (isConnectionError(error)) throw engineUnreachable(this.#docker, error);
      throw error;
    }
    const ctx = {
      workerId: this.#workerId,
      liveNames: this.#live,
      self: this.#owner,
      now: Date.now(),
      ownerAlive,
    };
    let removed = 0;
    for (const info of list) {
      const reason = orphanReason({ id: info.Id, names: info.Names ?? [], labels: info.Labels ?? {} }, ctx);
      if (!reason) continue;
      try {
        await this.#docker.getContainer(info.Id).remove({ force: true, v: true });
      } catch (error) {
        if (statusOf(error) === 404) continue;
        this.#log?.warn(
          { container: info.Id, err: engineMessage(error) },
          'could not remove an orphaned agent container',
        );
        continue;
      }
      removed++;
      await this.#removeScratch(info.Labels?.[LABEL_SCRATCH]);
      this.#log?.info(
        { container: info.Id.slice(0, 12), reason, task: info.Labels?.['forge.task'] },
        'removed an orphaned agent container',
      );
    }
    return removed;
  }

  /** A leftover's scratch dir, but only one of ours: a label is not a licence to delete any path. */
  async #removeScratch(path: string | undefined): Promise<void> {
    if (!path) return;
    const full = resolve(path);
    if (!full.startsWith(`${this.#scratchRoot}${sep}forge-scratch-`)) return;
    await rm(full, { recursive: true, force: true }).catch(() => undefined);
  }
}
