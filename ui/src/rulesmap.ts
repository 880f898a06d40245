// Maps rule problems to editor lines and caret offsets (line and column are 1-based, the column
// counted in characters of `text`).

export interface ProblemLike {
  line: number;
  column: number;
  message: string;
}

export function lineCount(text: string): number {
  let n = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** Problems grouped by line; lines outside the text are clamped to the nearest real line. */
export function problemsByLine<P extends ProblemLike>(text: string, problems: readonly P[]): Map<number, P[]> {
  const lines = lineCount(text);
  const map = new Map<number, P[]>();
  for (const p of problems) {
    const line = Math.min(Math.max(1, Math.floor(p.line) || 1), lines);
    const list = map.get(line);
    if (list) list.push(p);
    else map.set(line, [p]);
  }
  return map;
}

/** The caret offset of (line, column); a column past the line's end lands at the end of it. */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  const end = text.indexOf("\n", offset);
  const lineEnd = end < 0 ? text.length : end;
  return Math.min(offset + Math.max(0, column - 1), lineEnd);
}
