/**
 * The container an agent turn runs in, as a pure function of the turn's spec and the operator's
 * options — every hardening setting lives here, in one reviewable place.
 */
import type { ContainerCreateOptions } from 'dockerode';
import type { SandboxLimits, SandboxSpec } from '../types.js';
import { SandboxError } from '../types.js';
import { LABEL_DEADLINE, LABEL_MANAGED, LABEL_OWNER, LABEL_SCRATCH, LABEL_WORKER } from './labels.js';

/** Where the turn's checkout, the task's home and the turn's scratch dir appear inside. */
export const CONTAINER_WORKDIR = '/workspace';
export const CONTAINER_HOME = '/home/agent';
export const CONTAINER_SCRATCH = '/forge-scratch';

export const DEFAULT_LIMITS: Required<SandboxLimits> = { memoryMb: 4096, cpus: 2, pids: 1024 };
/** Open files per process. Kept at or below 20000: engines refuse more than their host allows. */
export const DEFAULT_NOFILE = 16_384;

const MIB = 1024 * 1024;
export const IDLE_SCRIPT = 'trap "" TERM INT HUP; exec sleep infinity';

export interface SandboxUser {
  uid: number;
  gid: number;
  /** `uid:gid`, as the engine takes it. */
  spec: string;
}

/** `uid:gid` (or `uid`, gid = uid), numeric only. Root is refused: the agent must never be uid 0. */
export function parseSandboxUser(user: string): SandboxUser {
  const match = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(user);
  if (!match) {
    throw new SandboxError(
      'invalid_options',
      `FORGE_SANDBOX_USER must be a numeric uid:gid such as 1000:1000 (got ${JSON.stringify(user)}).`,
    );
  }
  const uid = Number(match[1]);
  const gid = Number(match[2] ?? match[1]);
  if (uid === 0) {
    throw new SandboxError(
      'invalid_options',
      'FORGE_SANDBOX_USER must not be root (uid 0): agents run untrusted code; use 1000:1000.',
    );
  }
  return { uid, gid, spec: `${uid}:${gid}` };
}

export function resolveLimits(defaults: SandboxLimits, spec?: SandboxLimits): Required<SandboxLimits> {
  return {
    memoryMb: spec?.memoryMb ?? defaults.memoryMb ?? DEFAULT_LIMITS.memoryMb,
    cpus: spec?.cpus ?? defaults.cpus ?? DEFAULT_LIMITS.cpus,
    pids: spec?.pids ?? defaults.pids ?? DEFAULT_LIMITS.pids,
  };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `KEY=value` strings; a bad name or a NUL byte is a caller bug, refused before reaching the engine. */
export function envList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([key, value]) => {
    if (!ENV_NAME.test(key)) throw new TypeError(`invalid environment variable name ${JSON.stringify(key)}`);
    if (value.includes('\0')) throw new TypeError(`environment variable ${key} contains a NUL byte`);
    return `${key}=${value}`;
  });
}

export interface ContainerInput {
  name: string;
  image: string;
  spec: SandboxSpec;
  hostScratchDir: string;
  user: SandboxUser;
  network: string;
  limits: Required<SandboxLimits>;
  nofile: number;
  workerId: string;
  owner: string;
  deadline: number;
}

export function containerOptions(input: ContainerInput): ContainerCreateOptions {
  const { limits } = input;
  const memory = Math.round(limits.memoryMb * MIB);
  // /tmp is RAM (it counts against the memory limit): half of it at most, 1 GiB by default.
  const tmpfsMb = Math.max(16, Math.min(1024, Math.floor(limits.memoryMb / 2)));
  const bind = (source: string, target: string) => ({
    Type: 'bind' as const,
    Source: source,
    Target: target,
    ReadOnly: false,
    BindOptions: { Propagation: 'rprivate' as const },
  });
  return {
    name: input.name,
    Image: input.image,
    // The container only idles; commands arrive through the exec API. No image entrypoint runs.
    // The idler ignores SIGTERM (inherited through exec), so stopping the agent's processes with
    // `kill -TERM -1` cannot end the container before they finished cleaning up.
    Entrypoint: ['sh', '-c', IDLE_SCRIPT],
    Cmd: [],
    User: input.user.spec,
    WorkingDir: CONTAINER_WORKDIR,
    // Exactly the spec's environment (plus HOME): nothing of the worker's own environment.
    Env: envList({ ...input.spec.env, HOME: CONTAINER_HOME }),
    Labels: {
      ...input.spec.labels,
      [LABEL_MANAGED]: 'true',
      [LABEL_WORKER]: input.workerId,
      [LABEL_OWNER]: input.owner,
      [LABEL_DEADLINE]: String(input.deadline),
      [LABEL_SCRATCH]: input.hostScratchDir,
    },
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    HostConfig: {
      Init: true,
      NetworkMode: input.network,
      Mounts: [
        bind(input.spec.checkoutDir, CONTAINER_WORKDIR),
        bind(input.spec.homeDir, CONTAINER_HOME),
        bind(input.hostScratchDir, CONTAINER_SCRATCH),
      ],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${tmpfsMb}m,mode=1777` },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      Privileged: false,
      IpcMode: 'private',
      Memory: memory,
      // Equal to Memory: no swap on top of the limit.
      MemorySwap: memory,
      NanoCpus: Math.round(limits.cpus * 1e9),
      PidsLimit: limits.pids,
      Ulimits: [{ Name: 'nofile', Soft: input.nofile, Hard: input.nofile }],
      // Output is read live through exec; the idle main process writes nothing worth keeping.
      LogConfig: { Type: 'none', Config: {} },
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: false,
    },
  };
}
