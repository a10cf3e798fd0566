// How the CLI reports a problem on stderr: one line, prefixed with the program name, without
// control bytes whatever it quotes (a file name, a decoder's detail, a snippet of a binary file).

/** Line breaks become spaces, other control characters \xNN escapes. */
function oneLine(message: string): string {
  return (
    message
      .replace(/\s*[\r\n]+\s*/g, ' ')
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  );
}

export function errorLine(message: string): string {
  return `imagefolder-inspector: ${oneLine(message)}`;
}
