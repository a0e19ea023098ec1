/**
 * Builds the configured sandbox (FORGE_SANDBOX) from operator configuration.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import type { Logger } from 'pino';
import type { ForgeConfig } from '../config/load.js';
import { DockerSandbox } from './docker/docker-sandbox.js';
import { LocalSandbox } from './local/local-sandbox.js';
import type { Sandbox } from './types.js';

/** Past the turn timeout a container may still be finishing setup or being destroyed. */
const LIFETIME_SLACK_MS = 15 * 60_000;

export interface CreateSandboxOverrides {
  /** A ready client (tests); otherwise one for `config.dockerHost`. */
  docker?: Docker;
  /** Stable id of this worker for container labels; default the host name. */
  workerId?: string;
}

type SandboxConfig = Pick<
  ForgeConfig,
  | 'sandbox'
  | 'dockerHost'
  | 'agentImage'
  | 'agentImages'
  | 'sandboxUser'
  | 'sandboxNetwork'
  | 'sandboxMemory'
  | 'sandboxCpus'
  | 'sandboxPids'
  | 'workspaceDir'
  | 'turnTimeout'
>;

export function createSandbox(
  config: SandboxConfig,
  log: Logger,
  overrides: CreateSandboxOverrides = {},
): Sandbox {
  if (config.sandbox === 'local') {
    log.warn(
      'FORGE_SANDBOX=local runs agents as plain processes on this host, with access to its files and network. Use it for development and tests only.',
    );
    return new LocalSandbox();
  }
  if (config.sandboxNetwork === 'host') {
    log.warn(
      'FORGE_SANDBOX_NETWORK=host gives agent containers the host network: they can reach anything the host can, and the egress allowlist only applies to clients that honour the proxy. Use it for tests only.',
    );
  }
  return new DockerSandbox({
    docker: overrides.docker ?? dockerClient(config.dockerHost),
    image: config.agentImage,
    workerId: overrides.workerId ?? hostname(),
    user: config.sandboxUser,
    network: config.sandboxNetwork,
    limits: { memoryMb: config.sandboxMemory, cpus: config.sandboxCpus, pids: config.sandboxPids },
    // Under the workspace dir: bind mounts resolve on the engine's host, where that path is shared.
    scratchRoot: join(resolve(config.workspaceDir), 'scratch'),
    maxLifetimeMs: config.turnTimeout + LIFETIME_SLACK_MS,
    log,
  });
}

/** The image an agent runs in: its FORGE_AGENT_IMAGES entry, else FORGE_AGENT_IMAGE. */
export function imageFor(config: Pick<ForgeConfig, 'agentImage' | 'agentImages'>, agentName: string): string {
  return config.agentImages[agentName] ?? config.agentImage;
}

/**
 * A dockerode client for DOCKER_HOST (`unix:///path`, `tcp://host:port`, `https://host:port` with
 * DOCKER_CERT_PATH's certificates, `ssh://user@host`); the local socket when unset.
 */
export function dockerClient(dockerHost: string | undefined, env: NodeJS.ProcessEnv = process.env): Docker {
  if (!dockerHost) return new Docker({ socketPath: '/var/run/docker.sock' });
  const url = new URL(dockerHost);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  switch (url.protocol) {
    case 'unix:':
      return new Docker({ socketPath: url.pathname || '/var/run/docker.sock' });
    case 'tcp:':
    case 'http:':
      if (env.DOCKER_TLS_VERIFY === '1' || url.port === '2376')
        return tlsClient(host, url.port || '2376', env);
      return new Docker({ host, port: url.port || '2375', protocol: 'http' });
    case 'https:':
      return tlsClient(host, url.port || '2376', env);
    case 'ssh:':
      return new Docker({
        protocol: 'ssh',
        host,
        port: url.port || '22',
        username: decodeURIComponent(url.username),
        sshOptions: { agent: env.SSH_AUTH_SOCK },
      } as Docker.DockerOptions);
    default:
      throw new TypeError(`DOCKER_HOST: unsupported scheme ${url.protocol} (use unix://, tcp:// or ssh://)`);
  }
}

function tlsClient(host: string, port: string, env: NodeJS.ProcessEnv): Docker {
  const certs = env.DOCKER_CERT_PATH;
  const read = (name: string) => (certs ? readFileSync(join(certs, name)) : undefined);
  return new Docker({
    host,
    port,
    protocol: 'https',
    ca: read('ca.pem'),
    cert: read('cert.pem'),
    key: read('key.pem'),
  });
}
