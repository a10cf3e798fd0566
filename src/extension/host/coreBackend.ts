// The real InspectorBackend, over src/extension/core (placeholder until the core's index exists).

import type { InspectorBackend } from './backend';
import type { Logger } from './session';

export function createBackend(log: Logger): InspectorBackend {
  const missing = (): never => {
    throw Object.assign(new Error('the model runtime is not available in this build'), { code: 'INTERNAL' });
  };
  log.info('runtime: placeholder backend');
  return {
    inspect: () => Promise.resolve().then(missing),
    folderUsage: () => Promise.resolve().then(missing),
    describeModel: () => Promise.resolve().then(missing),
    dispose: () => undefined,
  };
}
