import { type Handler, int, notFound, paginate, repoOf } from '../context.js';
import { checkRunShape } from '../shapes-issues.js';
import { type CheckRunState, now } from '../state.js';

/** Check runs. The conclusion/status rules GitHub enforces beyond the schema live in rules.ts. */

type Output = { title?: string; summary?: string; text?: string };

function apply(run: CheckRunState, b: Record<string, unknown>): void {
  if (typeof b.name === 'string') run.name = b.name;
  if (typeof b.details_url === 'string') run.detailsUrl = b.details_url;
  if (typeof b.external_id === 'string') run.externalId = b.external_id;
  if (typeof b.started_at === 'string') run.startedAt = b.started_at;
  if (typeof b.status === 'string') run.status = b.status as CheckRunState['status'];
  // Providing a conclusion completes the run, as GitHub documents.
  if (typeof b.conclusion === 'string') {
    run.conclusion = b.conclusion;
    run.status = 'completed';
  }
  if (typeof b.completed_at === 'string') run.completedAt = b.completed_at;
  if (run.status === 'completed' && !run.completedAt) run.completedAt = now();
  const output = b.output as Output | undefined;
  if (output) {
    if (output.title !== undefined) run.output.title = output.title;
    if (output.summary !== undefined) run.output.summary = output.summary;
    if (output.text !== undefined) run.output.text = output.text;
  }
  run.history.push(b);
}

export const checkHandlers: Record<string, Handler> = {
  'checks/create': (req, f) => {
    const repo = repoOf(req);
    const run: CheckRunState = {
      id: f.state.id(),
      repo: repo.fullName,
      name: String(req.body.name),
      headSha: String(req.body.head_sha),
      status: 'queued',
      conclusion: null,
      startedAt: now(),
      completedAt: null,
      externalId: null,
      detailsUrl: null,
      output: { title: null, summary: null, text: null },
      history: [],
    };
    apply(run, req.body);
    f.state.checkRuns.set(run.id, run);
    return { status: 201, body: checkRunShape(f.shapes, run) };
  },

  'checks/update': (req, f) => {
    const run = f.state.checkRuns.get(int(req.params.check_run_id));
    if (!run || run.repo !== repoOf(req).fullName) throw notFound();
    apply(run, req.body);
    return { status: 200, body: checkRunShape(f.shapes, run) };
  },

  'checks/get': (req, f) => {
    const run = f.state.checkRuns.get(int(req.params.check_run_id));
    if (!run || run.repo !== repoOf(req).fullName) throw notFound();
    return { status: 200, body: checkRunShape(f.shapes, run) };
  },

  'checks/list-for-ref': async (req, f) => {
    const repo = repoOf(req);
    const ref = req.params.ref ?? '';
    const sha = /^[0-9a-f]{40}$/i.test(ref)
      ? ref
      : await f.branchSha(repo, ref.replace(/^(refs\/)?heads\//, ''));
    if (!sha) throw notFound();
    const name = req.query.get('check_name');
    const status = req.query.get('status');
    let runs = [...f.state.checkRuns.values()].filter(
      (r) =>
        r.repo === repo.fullName &&
        r.headSha === sha &&
        (!name || r.name === name) &&
        (!status || r.status === status),
    );
    if ((req.query.get('filter') ?? 'latest') === 'latest') {
      const latest = new Map<string, CheckRunState>();
      for (const r of runs) if ((latest.get(r.name)?.id ?? -1) < r.id) latest.set(r.name, r);
      runs = [...latest.values()];
    }
    runs.sort((a, b) => b.id - a.id);
    const { page, headers } = paginate(runs, req);
    return {
      status: 200,
      body: { total_count: runs.length, check_runs: page.map((r) => checkRunShape(f.shapes, r)) },
      headers,
    };
  },
};
