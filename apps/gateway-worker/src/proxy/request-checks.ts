import { GatewayRefusal, refuse } from './gateway-errors';

/**
 * Why a request path cannot be routed safely, or null. A path must not leave
 * its API once an upstream decodes or normalises it: no `.` or `..` segment
 * (raw or percent-encoded), no encoded `/` or `\`, no raw `\`, no control
 * characters, and the origin form only (`/...`, not `http://host/...`).
 */
export function unsafePathReason(rawPath: string): string | null {
  if (!rawPath.startsWith('/')) return 'the request target must be a path starting with /';
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

/**
 * Refuses the header shapes of request smuggling (RFC 9112 §6.1, §6.3) that a
 * lenient hop could read differently: Content-Length together with
 * Transfer-Encoding, more than one Content-Length, a Transfer-Encoding other
 * than a final `chunked`. Node's parser already refuses most of these; this
 * is the gateway's own guarantee, whatever the parser's settings.
 */
export function smugglingRefusal(rawHeaders: readonly string[]): GatewayRefusal | null {
  let contentLengths = 0;
  let transferEncodings = 0;
  let chunkedLast = true;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (name === 'content-length') contentLengths++;
    else if (name === 'transfer-encoding') {
      transferEncodings++;
      const codings = rawHeaders[i + 1].split(',').map((coding) => coding.trim().toLowerCase());
      chunkedLast = codings[codings.length - 1] === 'chunked';
    }
  }
  if (contentLengths > 0 && transferEncodings > 0) {
    return refuse(400, 'BAD_REQUEST', 'a request may not carry both Content-Length and Transfer-Encoding');
  }
  if (contentLengths > 1) return refuse(400, 'BAD_REQUEST', 'a request may carry one Content-Length header only');
  if (transferEncodings > 0 && !chunkedLast) return refuse(400, 'BAD_REQUEST', 'Transfer-Encoding must end with chunked');
  return null;
}
