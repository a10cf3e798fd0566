// `npm start` pieces (scripts/start-lib.js): the code-server output prefix and the profile settings.

import * as assert from 'node:assert/strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { START_SETTINGS, linePrefixer, mergeSettings } = require('../../../scripts/start-lib.js') as {
  START_SETTINGS: Record<string, unknown>;
  linePrefixer: (prefix: string, write: (s: string) => void) => { push: (c: string) => void; flush: () => void };
  mergeSettings: (text: string | undefined) => string | undefined;
};

describe('npm start', () => {
  it('prefixes each code-server line once, whatever the chunks', () => {
    let out = '';
    const p = linePrefixer('[code-server] ', (s) => (out += s));
    // chunks as a pipe delivers them: ending right after a newline, mid-line, several lines at once
    for (const chunk of ['[12:00] info  code-server 4.100.3\n', '[12:00] info  Using user-data', '-dir /tmp/u\n[12:00] info  HTTP server listening on http://127.0.0.1:8080/\n', 'tail']) p.push(chunk);
    p.flush();
    assert.equal(
      out,
      '[code-server] [12:00] info  code-server 4.100.3\n[code-server] [12:00] info  Using user-data-dir /tmp/u\n[code-server] [12:00] info  HTTP server listening on http://127.0.0.1:8080/\n[code-server] tail\n',
    );
    assert.doesNotMatch(out, /\[code-server\] \[code-server\]/);
  });

  it("the profile turns off git's parent-folder prompt (as the e2e harness does) and keeps the user's settings", () => {
    const fresh = JSON.parse(mergeSettings(undefined)!);
    assert.equal(fresh['git.openRepositoryInParentFolders'], 'never');
    assert.equal(fresh['git.enabled'], false);
    // a profile from an earlier version lacks the git settings: they are added, the user's own kept
    const old = JSON.stringify({ 'workbench.startupEditor': 'none', 'editor.fontSize': 18, 'git.enabled': true });
    const merged = JSON.parse(mergeSettings(old)!);
    assert.equal(merged['git.openRepositoryInParentFolders'], 'never');
    assert.equal(merged['git.enabled'], true);
    assert.equal(merged['editor.fontSize'], 18);
    // nothing to add: the file is left alone; comments (JSONC) too
    assert.equal(mergeSettings(JSON.stringify({ ...START_SETTINGS, x: 1 })), undefined);
    assert.equal(mergeSettings('{ // mine\n "a": 1 }'), undefined);
  });
});
