// eslint-disable-next-line no-control-regex
const SUSPECT = /[%.\\\u0000-\u001f\u007f]/;

/**
 * Why a request path cannot be routed safely, or null. A path must not leave
 * its API once an upstream decodes or normalises it: no `.` or `..` segment
 * (raw or percent-encoded), no encoded `/` or `\`, no raw `\`, no control
 * characters, and the origin form only (`/...`, not `http://host/...`).
 */
export function unsafePathReason(rawPath: string): string | null {
  if (!rawPath.startsWith('/')) return 'the request target must be a path starting with /';
  // Most paths hold none of the characters the checks below look at: one scan answers for them.
  if (!SUSPECT.test(rawPath)) return null;
  if (rawPath.includes('\\')) return 'the path contains a backslash';
  if (/%(2f|5c)/i.test(rawPath)) return 'the path contains an encoded slash or backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]|%(0|1)[0-9a-f]|%7f/i.test(rawPath)) return 'the path contains a control character';
  for (const segment of rawPath.split('/')) {
    if (segment.length === 0 || segment.length > 6) continue;
    const decoded = segment.replace(/%2e/gi, '.');
    if (decoded === '.' || decoded === '..') return 'the path contains a dot segment (. or ..)';
  }
  return null;
}
