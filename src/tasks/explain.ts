import type { ForgeWords } from '../forge/types.js';
import { SandboxError } from '../sandbox/types.js';

const GITHUB_ACCESS_HINT =
  'Check that the App is installed on this repository with the permissions listed in app.yml.';

/** The HTTP status of a client's error: Octokit's `status`, or gitbeaker's `cause.response.status`. */
function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if ('status' in error) return Number(error.status);
  const response = (error as { cause?: { response?: { status?: unknown } } }).cause?.response;
  return typeof response?.status === 'number' ? response.status : undefined;
}

/** One place that turns an unexpected error into words a user can act on (never a stack trace). */
export function explainError(error: unknown, words?: Pick<ForgeWords, 'accessHint'>): string {
  const hint = words?.accessHint ?? GITHUB_ACCESS_HINT;
  if (error instanceof SandboxError) {
    switch (error.code) {
      case 'engine_unreachable':
        return `Forge could not reach its container engine (${error.message}). An operator needs to check the Docker host.`;
      case 'image_missing':
        return `The agent image is missing (${error.message}). An operator needs to build or pull it.`;
      case 'out_of_memory':
        return `The agent ran out of memory in its container (${error.message}). An operator can raise \`FORGE_SANDBOX_MEMORY_MB\`.`;
      case 'invalid_options':
        return `Forge's sandbox settings are not usable (${error.message}). An operator needs to fix them.`;
      case 'exec_failed':
        return `Forge could not run a command in the agent's container: ${error.message}`;
      default:
        return `The sandbox could not start: ${error.message}`;
    }
  }
  const status = statusOf(error);
  if (status === 401 || status === 403) {
    return `The code host refused Forge's request (HTTP ${status}). ${hint}`;
  }
  if (status === 404)
    return 'Something Forge needed on the code host was not found (HTTP 404): the branch, the repository or the issue may have been deleted.';
  if (status && status >= 500)
    return `The code host had an error (HTTP ${status}). Try again in a few minutes.`;
  const message = error instanceof Error ? error.message : String(error);
  if (/could not read from remote|authentication failed|HTTP 40[13]/i.test(message)) {
    return `Forge could not access the repository with git. ${hint}`;
  }
  return `Forge hit an unexpected error: ${message.split('\n')[0]?.slice(0, 300)}`;
}
