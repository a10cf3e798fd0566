// Where the CLI's output goes: the process's stdout/stderr in cli.ts, buffers in the tests, which
// run the CLI in-process.

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** whether stderr is a terminal (progress bar redraws in place) */
  errIsTty: boolean;
  writeErrRaw: (text: string) => void;
}
