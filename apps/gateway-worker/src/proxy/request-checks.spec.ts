import { unsafePathReason } from './request-checks';

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
    '/a/v1/x\u0001',
    '/a/v1/\u007f',
  ])('refuses the path %s', (path) => expect(unsafePathReason(path)).not.toBeNull());

  it.each(['/a/v1/x', '/a/v1/x.y/..z', '/a/v1/%20', '/a/v1/...', '/a/v1/'])('accepts the path %s', (path) =>
    expect(unsafePathReason(path)).toBeNull(),
  );
});
