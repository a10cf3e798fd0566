// Pieces of `npm start` (scripts/start.js) kept apart so that tests can check them without starting
// code-server (test/unit/tooling/start.test.ts).
'use strict';

/**
 * User settings of the `npm start` profile. The git ones match the e2e harness: the samples folder
 * sits inside this repository, so VS Code's git extension would otherwise ask on every start
 * whether to open "the repository found in the parent folders".
 */
const START_SETTINGS = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
};

/** The profile's settings: the user's own values kept, the start settings they lack added. */
function mergeSettings(existingText) {
  let existing = {};
  try {
    const parsed = JSON.parse(existingText ?? '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) existing = parsed;
  } catch {
    // settings.json may hold comments (JSONC) that JSON.parse refuses: then leave it as it is
    return undefined;
  }
  const merged = { ...START_SETTINGS, ...existing };
  return JSON.stringify(merged) === JSON.stringify(existing) ? undefined : JSON.stringify(merged, null, 2);
}

/**
 * Prefixes each line of a child's output once. Output arrives in chunks that end anywhere (often
 * right after a newline): only complete lines are written, the rest waits for the next chunk.
 */
function linePrefixer(prefix, write) {
  let pending = '';
  return {
    push(chunk) {
      pending += chunk;
      const end = pending.lastIndexOf('\n');
      if (end < 0) return;
      for (const line of pending.slice(0, end).split('\n')) write(`${prefix}${line}\n`);
      pending = pending.slice(end + 1);
    },
    flush() {
      if (pending) write(`${prefix}${pending}\n`);
      pending = '';
    },
  };
}

module.exports = { START_SETTINGS, mergeSettings, linePrefixer };
