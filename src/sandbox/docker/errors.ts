/**
 * Translates dockerode / engine failures into SandboxErrors whose messages tell an operator what
 * to do. The one place that knows the shapes of docker-modem's errors.
 */
import type Docker from 'dockerode';
import { SandboxError } from '../types.js';

interface EngineErrorShape {
  code?: string;
  statusCode?: number;
  reason?: string;
  json?: { message?: string } | null;
  message?: string;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'EPERM',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** `unix:///var/run/docker.sock` or `tcp://host:port`: the engine as DOCKER_HOST would name it. */
export function engineEndpoint(docker: Docker): string {
  const modem = docker.modem as unknown as {
    socketPath?: string;
    host?: string;
    port?: string | number;
    protocol?: string;
  };
  if (modem.socketPath) return `unix://${modem.socketPath}`;
  const scheme = modem.protocol === 'https' ? 'tcp+tls' : modem.protocol === 'ssh' ? 'ssh' : 'tcp';
  return `${scheme}://${modem.host ?? 'localhost'}${modem.port ? `:${modem.port}` : ''}`;
}

/** The engine's own message (`No such image: x`) without docker-modem's `(HTTP code 404) …` prefix. */
export function engineMessage(error: unknown): string {
  const e = (error ?? {}) as EngineErrorShape;
  const fromJson = e.json && typeof e.json === 'object' ? e.json.message : undefined;
  return (fromJson ?? e.message ?? String(error)).trim();
}

export function isConnectionError(error: unknown): boolean {
  const e = (error ?? {}) as EngineErrorShape;
  return typeof e.code === 'string' && CONNECTION_CODES.has(e.code) && e.statusCode === undefined;
}

export function statusOf(error: unknown): number | undefined {
  return (error as EngineErrorShape | undefined)?.statusCode;
}

export function engineUnreachable(docker: Docker, error: unknown): SandboxError {
  const code = (error as EngineErrorShape | undefined)?.code;
  return new SandboxError(
    'engine_unreachable',
    `the Docker engine at ${engineEndpoint(docker)} (DOCKER_HOST) did not answer${code ? ` (${code})` : ''}; start it, or set DOCKER_HOST to a running engine and give the worker access to its socket`,
    { cause: error },
  );
}

export function imageMissing(image: string, docker: Docker, error?: unknown): SandboxError {
  return new SandboxError(
    'image_missing',
    `the agent image ${image} is not on the Docker engine at ${engineEndpoint(docker)}; build it with \`docker build -f docker/Dockerfile.agent -t ${image} .\` (or \`docker pull\` it), or point FORGE_AGENT_IMAGE / FORGE_AGENT_IMAGES at an image that has the agent CLI on PATH`,
    error === undefined ? undefined : { cause: error },
  );
}

/** Any failure while creating or starting the turn's container. */
export function startFailed(docker: Docker, image: string, error: unknown): SandboxError {
  if (error instanceof SandboxError) return error;
  if (isConnectionError(error)) return engineUnreachable(docker, error);
  const message = engineMessage(error);
  if (statusOf(error) === 404 && /no such image/i.test(message)) return imageMissing(image, docker, error);
  let hint = '';
  if (/network .* not found/i.test(message))
    hint = '; check FORGE_SANDBOX_NETWORK names an existing Docker network';
  else if (/ulimit|rlimit|operation not permitted/i.test(message))
    hint = '; the engine refused a limit (ulimit, memory or pids): check its host limits';
  else if (/bind source path does not exist|invalid mount|mount/i.test(message))
    hint =
      '; bind mounts resolve on the Docker host: FORGE_WORKSPACE_DIR must be the same absolute path on the Docker host as in the worker';
  return new SandboxError(
    'start_failed',
    `the agent container (image ${image}) could not be started: ${message}${hint}`,
    {
      cause: error,
    },
  );
}
