/**
 * Wildcard matching for approval rules: `*` matches any run of characters (`/` and newlines
 * included), `?` exactly one. No regular expression and no backtracking: the pattern is cut at its
 * stars into literal pieces; the first must start the text, the last must end it, and each piece
 * between is taken at its leftmost place after the previous one. For star-only globs leftmost is
 * always right, so the work is one left-to-right pass over the text per piece: a hostile pattern
 * (`*a*a*a*a!`) costs microseconds, not the seconds a backtracking regex spends on it.
 */
export function globMatch(glob: string, text: string): boolean {
  if (!glob.includes('*')) return glob.length === text.length && matchesAt(glob, text, 0);
  const pieces = glob.split('*');
  const first = pieces[0] as string;
  const last = pieces[pieces.length - 1] as string;
  if (first.length + last.length > text.length) return false;
  if (!matchesAt(first, text, 0) || !matchesAt(last, text, text.length - last.length)) return false;
  let from = first.length;
  const end = text.length - last.length;
  for (let index = 1; index < pieces.length - 1; index += 1) {
    const piece = pieces[index] as string;
    if (piece === '') continue;
    const at = find(piece, text, from, end);
    if (at < 0) return false;
    from = at + piece.length;
  }
  return true;
}

/** `piece` (with `?` for any one character) stands in `text` at `at`. */
function matchesAt(piece: string, text: string, at: number): boolean {
  for (let index = 0; index < piece.length; index += 1) {
    const char = piece.charCodeAt(index);
    if (char !== QUESTION && char !== text.charCodeAt(at + index)) return false;
  }
  return true;
}

/** Leftmost place of `piece` in `text[from, end)`, or -1. */
function find(piece: string, text: string, from: number, end: number): number {
  if (!piece.includes('?')) {
    const at = text.indexOf(piece, from);
    return at >= 0 && at + piece.length <= end ? at : -1;
  }
  for (let at = from; at + piece.length <= end; at += 1) if (matchesAt(piece, text, at)) return at;
  return -1;
}

const QUESTION = '?'.charCodeAt(0);
