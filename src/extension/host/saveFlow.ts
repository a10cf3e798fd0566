// The one way the extension writes a file: the user picks the path in a save dialog, the bytes are
// written atomically, and an existing file is replaced only after a second, modal confirmation.
// Shared by the inspector's Export and the Generate view's Save (no `vscode` import: HostUi is the
// boundary).

import * as path from 'node:path';
import { FileExistsError, writeFileAtomic, type ExportPlan } from './exporter';
import type { HostUi } from './hostUi';

export type SaveOutcome = { written: string } | { cancelled: true } | { failed: unknown; path: string };

export async function saveThroughDialog(ui: HostUi, plan: ExportPlan, dialog: { defaultDir: string; title: string }): Promise<SaveOutcome> {
  const chosen = await ui.showSaveDialog({
    defaultPath: path.join(dialog.defaultDir, plan.defaultName),
    filters: { [plan.filterName]: plan.extensions },
    title: dialog.title,
  });
  if (!chosen) return { cancelled: true };
  if (!path.isAbsolute(chosen)) return { failed: new Error('the save dialog returned a relative path'), path: chosen };
  try {
    await writeFileAtomic(chosen, plan.bytes, false);
    return { written: chosen };
  } catch (e) {
    if (!(e instanceof FileExistsError)) return { failed: e, path: chosen };
  }
  if (!(await ui.confirmOverwrite(chosen))) return { cancelled: true };
  try {
    await writeFileAtomic(chosen, plan.bytes, true);
    return { written: chosen };
  } catch (e) {
    return { failed: e, path: chosen };
  }
}
