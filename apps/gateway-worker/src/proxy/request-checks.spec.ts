import { smugglingRefusal, unsafePathReason } from './request-checks';

describe('request checks', () => {
  it.each([
    '/a/v1/../x',
    '/a/v1/%2e%2E/x',
    '/a/v1/./x',
    '/a/v1/.%2e',
    '/a/v1/x%2Fy',
    '/a/v1/x%5cy',
    '/a/v1/x\\y',
    'http://evil/a/v1',
    '/a/v1/%00',
  ])('refuses the path %s', (path) => expect(unsafePathReason(path)).not.toBeNull());

  it.each(['/a/v1/x', '/a/v1/x.y/..z', '/a/v1/%20', '/a/v1/...', '/a/v1/'])('accepts the path %s', (path) =>
    expect(unsafePathReason(path)).toBeNull(),
  );

  it('refuses Content-Length with Transfer-Encoding, two Content-Lengths, and a Transfer-Encoding not ending in chunked', () => {
    expect(smugglingRefusal(['Content-Length', '1', 'Transfer-Encoding', 'chunked'])?.status).toBe(400);
    expect(smugglingRefusal(['content-length', '1', 'Content-Length', '1'])?.status).toBe(400);
    expect(smugglingRefusal(['Transfer-Encoding', 'chunked, gzip'])?.status).toBe(400);
    expect(smugglingRefusal(['Transfer-Encoding', 'gzip, chunked'])).toBeNull();
    expect(smugglingRefusal(['Content-Length', '10', 'Host', 'x'])).toBeNull();
  });
});
