/**
 * node:test reporter that emits one JSON line per counted test case, for test/run.mjs to tally.
 *
 * Why a line per result rather than one summary at the end: if the runner dies half-way, the
 * lines already written still count, and the wrapper adds the failure for the death itself.
 *
 * What counts as a test case:
 * - leaf tests only: a `describe` suite or a `test` with subtests is a container, not a case;
 * - a container that fails while none of its children failed (a throwing `after` hook, an
 *   assertion after the subtests) counts as one failed case, so no failure is ever invisible;
 * - a file that crashes (throws at import, exits early, async error after its tests) is reported
 *   by node as a failing test named after the file, with no children: a leaf, so it counts.
 * - skip and todo (even a failing todo) count as skipped.
 */

/** @typedef {{ hadChild: boolean[]; childFailed: boolean[] }} FileState */

/** @param {AsyncIterable<{ type: string; data: any }>} source */
export default async function* countReporter(source) {
  /** @type {Map<string, FileState>} */
  const files = new Map();

  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const data = event.data;
    const key = data.file ?? '<unknown>';
    let state = files.get(key);
    if (!state) {
      state = { hadChild: [], childFailed: [] };
      files.set(key, state);
    }
    const level = data.nesting ?? 0;
    const failed = event.type === 'test:fail';
    // Results arrive children first, in order per file: a result at level n+1 since the last
    // result at level n means the current test had children.
    const hadChild = state.hadChild[level + 1] === true;
    const childFailed = state.childFailed[level + 1] === true;
    state.hadChild[level + 1] = false;
    state.childFailed[level + 1] = false;
    state.hadChild[level] = true;
    if (failed) state.childFailed[level] = true;
    else if (childFailed) state.childFailed[level] = true;

    const isSuite = data.details?.type === 'suite';
    let result;
    if (!hadChild && !isSuite) {
      // A failing todo test does not fail node's run either, so it is a skip here.
      if (data.todo !== undefined || data.skip !== undefined) result = 'skip';
      else result = failed ? 'fail' : 'pass';
    } else if (isSuite && !hadChild && data.skip !== undefined) {
      // describe.skip reports the suite alone, not its tests: one skip keeps it visible.
      result = 'skip';
    } else if (failed && !childFailed) {
      result = 'fail';
    } else {
      continue;
    }
    yield `${JSON.stringify({ result, name: data.name, file: data.file ?? null })}\n`;
  }
}
