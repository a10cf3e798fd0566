// Progress on stderr: redrawn in place on a terminal, a line every 10 % otherwise (CI logs).

import type { Io } from './io';

/** unit: what is counted ('images', or 'tiles' of an inspection) */
export function progressBar(io: Io, unit = 'images') {
  let lastDecile = -1;
  let drawn = false;
  return {
    update(done: number, total: number, current: string) {
      if (io.errIsTty) {
        const width = 30;
        const filled = Math.round((done / total) * width);
        const name = current.length > 40 ? `...${current.slice(-37)}` : current;
        io.writeErrRaw(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${name}\x1b[K`);
        drawn = true;
      } else {
        const decile = Math.floor((done / total) * 10);
        if (decile !== lastDecile) {
          lastDecile = decile;
          io.err(`${done}/${total} ${unit}`);
        }
      }
    },
    done() {
      if (drawn) io.writeErrRaw('\n');
    },
  };
}
