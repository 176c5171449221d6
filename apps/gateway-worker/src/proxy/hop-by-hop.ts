import type { ResponseHead } from '../http/http1';

// What a proxy must not pass on between its two connections (RFC 9110 §7.6.1): shared by the request path and upgrades.

/** RFC 9110 §7.6.1 connection-specific headers, never forwarded in either direction (Host is the upstream's own). */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  // Framing is the gateway's own on each side.
  'content-length',
]);

/** Fields a Connection header names as hop-by-hop (RFC 9110 §7.6.1); the usual `keep-alive` or `close` name none besides themselves. */
export function listedInConnection(connection: string | undefined): Set<string> | undefined {
  if (!connection) return undefined;
  const lower = connection.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return undefined;
  return new Set(lower.split(',').map((token) => token.trim()));
}

/** The upstream's response headers minus hop-by-hop ones and its framing (the gateway frames the response itself), plus the gateway's own. */
export function responseHeaders(head: ResponseHead, extra: readonly string[]): string[] {
  const out: string[] = [];
  const connectionListed = listedInConnection(head.fields.get('connection'));
  const raw = head.raw;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if ((HOP_BY_HOP.has(name) && name !== 'host') || connectionListed?.has(name) || name === 'x-request-id') continue;
    out.push(raw[i], raw[i + 1]);
  }
  for (const value of extra) out.push(value);
  return out;
}
