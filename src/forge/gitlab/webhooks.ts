import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Handler } from '../../http/server.js';
import { type AcceptDeps, type AcceptResult, acceptEvent } from '../../intake/accept.js';
import { onInstance } from './map.js';
import { normalizeGitLabEvent } from './normalize.js';

export const GITLAB_WEBHOOK_PATH = '/api/gitlab/webhooks';

/** GitLab's own payloads are far smaller (a note is at most 1,000,000 characters). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface GitLabWebhookDeps extends AcceptDeps {
  /** The webhook's secret token (GITLAB_WEBHOOK_SECRET). */
  secret: string;
  /** The GitLab instance (GITLAB_URL): events about projects elsewhere are ignored. */
  instanceUrl: string;
  triggerLabel: string;
  repoTriggerLabels?: readonly string[];
  log: Logger;
}

/**
 * `POST /api/gitlab/webhooks`. GitLab does not sign deliveries; it sends the webhook's secret token
 * in `X-Gitlab-Token`, compared here in constant time before the body is even read.
 *
 * Answers: 401 for a missing or wrong token (nothing is queued); 2xx for everything else Forge does
 * not fail on — queued, duplicate, and ignored alike, including a body that is not JSON or too
 * large. GitLab disables a webhook that keeps failing, and a 4xx can disable it for good, so an
 * event Forge has no use for must never look like a failure. Only Forge's own trouble (Redis down)
 * is a 5xx, which GitLab retries later. No GitLab API call is made here.
 *
 * Duplicates: three ids are claimed at once, any one seen before makes a duplicate (2xx, nothing
 * queued). `Idempotency-Key` (GitLab 17.4+) is the same on retries and manual resends of one
 * delivery. A hash of the body is the same for one event whichever hook sends it: GitLab builds
 * the payload once and posts it to the project's hooks and the group's, each with its own keys,
 * and a resend before 17.4 has no Idempotency-Key at all. The note id catches the same note however
 * it arrives. `X-Gitlab-Event-UUID` is not claimed: it is new for every hook and every resend, and
 * shared by different events when a webhook receiver's API calls cause them ("recursive" webhooks),
 * so it could only make distinct events look like one.
 */
export function gitlabWebhookHandler(deps: GitLabWebhookDeps): Handler {
  const expected = digest(deps.secret);
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://forge.invalid').pathname;
    if (path !== GITLAB_WEBHOOK_PATH) return false;
    if (req.method !== 'POST') {
      reply(res, 405, { error: 'use POST' }, { allow: 'POST' });
      return true;
    }
    const token = header(req, 'x-gitlab-token');
    if (token === undefined || !timingSafeEqual(digest(token), expected)) {
      req.resume();
      deps.log.warn({ event: header(req, 'x-gitlab-event') }, 'GitLab webhook with a bad token refused');
      reply(res, 401, { error: 'bad X-Gitlab-Token' });
      return true;
    }
    const body = await readBody(req);
    const eventName = header(req, 'x-gitlab-event') ?? '';
    if (body === undefined) {
      deps.log.warn({ event: eventName }, 'GitLab webhook body too large; ignored');
      reply(res, 200, { result: 'ignored', reason: 'body too large' });
      return true;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      deps.log.warn({ event: eventName }, 'GitLab webhook body is not JSON; ignored');
      reply(res, 200, { result: 'ignored', reason: 'body is not JSON' });
      return true;
    }
    const payloadHash = createHash('sha256').update(body).digest('hex');
    const deliveryId = header(req, 'idempotency-key') ?? payloadHash;
    const event = normalizeGitLabEvent(eventName, deliveryId, payload, {
      triggerLabel: deps.triggerLabel,
      repoTriggerLabels: deps.repoTriggerLabels ?? [],
    });
    if (event && !onInstance(event.repo.cloneUrl, deps.instanceUrl)) {
      deps.log.warn(
        { deliveryId, repo: event.repo.path, cloneUrl: originOf(event.repo.cloneUrl) },
        'GitLab webhook names a project whose clone URL is not on GITLAB_URL (scheme, host, port and path prefix must match); ignored',
      );
      reply(res, 200, { result: 'ignored', reason: 'project not on this GitLab instance' });
      return true;
    }
    let result: AcceptResult;
    try {
      result = await acceptEvent(event, {
        ...deps,
        deduper: deps.deduper.withEventKeys([`payload:${payloadHash}`]),
      });
    } catch (error) {
      deps.log.error({ err: error, deliveryId }, 'GitLab webhook could not be queued');
      reply(res, 503, { error: 'try again later' });
      return true;
    }
    reply(res, 200, { result });
    return true;
  };
}

/** Scheme, host and port only: enough to see what differs from GITLAB_URL, and never a credential. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'not a URL';
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

/** The request body, or undefined when it is larger than Forge ever needs (the rest is drained). */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

function reply(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}
