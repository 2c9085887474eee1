/**
 * Page cursors: opaque to clients (base64url of `<kind>:<value>`), checked strictly on the way back,
 * so a cursor that is not one of ours, or one of another list, is a 400 rather than the first page.
 */
export function encodeCursor(kind: string, value: string | number): string {
  return Buffer.from(`${kind}:${value}`, 'utf8').toString('base64url');
}

/** The value inside a cursor of `kind`, or null when `raw` is not such a cursor. */
export function decodeCursor(kind: string, raw: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,700}$/.test(raw)) return null;
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  if (encodeCursor(kind, text.slice(kind.length + 1)) !== raw || !text.startsWith(`${kind}:`)) return null;
  return text.slice(kind.length + 1);
}

/** A cursor of `kind` holding a positive integer, or null. */
export function decodeIntCursor(kind: string, raw: string): number | null {
  const value = decodeCursor(kind, raw);
  return value !== null && /^[1-9]\d{0,15}$/.test(value) ? Number(value) : null;
}
