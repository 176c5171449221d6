import {
  BodyReader,
  Framing,
  headEnd,
  HttpSyntaxError,
  keepsAlive,
  parseRequestHead,
  parseResponseHead,
  requestFraming,
  responseFraming,
} from './http1';

function request(text: string) {
  const buffer = Buffer.from(text, 'latin1');
  const end = headEnd(buffer, 0);
  if (end === -1) throw new Error('test head has no blank line');
  return parseRequestHead(buffer, 0, end);
}

function response(text: string) {
  const buffer = Buffer.from(text, 'latin1');
  return parseResponseHead(buffer, 0, headEnd(buffer, 0));
}

function refusal(run: () => unknown): { status: number; message: string } | null {
  try {
    run();
    return null;
  } catch (error) {
    if (!(error instanceof HttpSyntaxError)) throw error;
    return { status: error.status, message: error.message };
  }
}

/** Feeds `wire` to a reader in pieces of `step` bytes; the payload it handed out, and the bytes it left. */
function readBody(framing: Framing, wire: string, step: number): { payload: string; leftover: string; done: boolean } {
  let payload = '';
  const reader = new BodyReader(framing, (chunk) => (payload += chunk.toString('latin1')));
  const bytes = Buffer.from(wire, 'latin1');
  let leftover = '';
  for (let at = 0; at < bytes.length; at += step) {
    const piece = bytes.subarray(at, Math.min(at + step, bytes.length));
    const used = reader.done ? 0 : reader.read(piece, 0);
    leftover += piece.subarray(used).toString('latin1');
  }
  return { payload, leftover, done: reader.done };
}

describe('HTTP/1.1 request heads', () => {
  it('reads the request line and headers, keeping repeated fields as separate lines', () => {
    const head = request('GET /a/v1/x?y=1 HTTP/1.1\r\nHost: gw\r\nAccept:  text/plain \r\nX-Tag: a\r\nx-tag: b\r\n\r\n');
    expect(head).toMatchObject({ method: 'GET', target: '/a/v1/x?y=1', minor: 1 });
    expect(head.raw).toEqual(['Host', 'gw', 'Accept', 'text/plain', 'X-Tag', 'a', 'x-tag', 'b']);
    expect(head.fields.get('x-tag')).toBe('a, b');
    expect(head.fields.get('accept')).toBe('text/plain');
    expect(request('GET / HTTP/1.0\r\n\r\n').minor).toBe(0);
  });

  it.each([
    ['a bare LF', 'GET / HTTP/1.1\nHost: x\r\n\r\n', 400],
    ['a bare LF inside a header', 'GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n', 400],
    ['obsolete line folding', 'GET / HTTP/1.1\r\nX: a\r\n  b\r\n\r\n', 400],
    ['space before the colon', 'GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n', 400],
    ['a header without colon', 'GET / HTTP/1.1\r\nHost\r\n\r\n', 400],
    ['a control character in a value', 'GET / HTTP/1.1\r\nX: a\u0001b\r\n\r\n', 400],
    ['a bare CR in a value', 'GET / HTTP/1.1\r\nX: a\rb\r\n\r\n', 400],
    ['a space in the target', 'GET /a b HTTP/1.1\r\n\r\n', 400],
    ['a non-ASCII target', 'GET /\u00e9 HTTP/1.1\r\n\r\n', 400],
    ['a method that is not a token', 'G(T / HTTP/1.1\r\n\r\n', 400],
    ['a missing version', 'GET /\r\n\r\n', 400],
    ['HTTP/2.0 in an HTTP/1 line', 'GET / HTTP/2.0\r\n\r\n', 505],
    ['an HTTP/1.1 request without Host', 'GET / HTTP/1.1\r\nX: y\r\n\r\n', 400],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['a garbled version', 'GET / HTTX/1.1\r\n\r\n', 400],
  ])('refuses %s', (_name, text, status) => {
    expect(refusal(() => request(text))?.status).toBe(status);
  });

  it('refuses more than 200 header lines with 431', () => {
    const many = Array.from({ length: 201 }, (_, i) => `X-${i}: v\r\n`).join('');
    expect(refusal(() => request(`GET / HTTP/1.1\r\n${many}\r\n`))?.status).toBe(431);
  });
});

describe('HTTP/1.1 request framing', () => {
  const framing = (headers: string, version = '1.1') => requestFraming(request(`POST / HTTP/${version}\r\nHost: gw\r\n${headers}\r\n`));

  it('reads Content-Length and chunked, and no body without either', () => {
    expect(framing('Content-Length: 12\r\n')).toEqual({ kind: 'length', length: 12 });
    expect(framing('Content-Length: 0\r\n')).toEqual({ kind: 'none' });
    expect(framing('Transfer-Encoding: chunked\r\n')).toEqual({ kind: 'chunked' });
    expect(framing('Transfer-Encoding: Chunked\r\n')).toEqual({ kind: 'chunked' });
    expect(framing('')).toEqual({ kind: 'none' });
  });

  it.each([
    ['Content-Length with Transfer-Encoding', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'],
    ['two Content-Lengths', 'Content-Length: 1\r\nContent-Length: 1\r\n'],
    ['a Content-Length that is not a number', 'Content-Length: 1e3\r\n'],
    ['a signed Content-Length', 'Content-Length: +5\r\n'],
    ['an empty Content-Length', 'Content-Length: \r\n'],
    ['a Transfer-Encoding other than chunked', 'Transfer-Encoding: gzip\r\n'],
    ['chunked that is not alone', 'Transfer-Encoding: gzip, chunked\r\n'],
    ['chunked twice', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'],
  ])('refuses %s with 400', (_name, headers) => {
    expect(refusal(() => framing(headers))?.status).toBe(400);
  });

  it('refuses Transfer-Encoding in HTTP/1.0', () => {
    expect(refusal(() => framing('Transfer-Encoding: chunked\r\n', '1.0'))?.status).toBe(400);
  });

  it('keeps HTTP/1.1 alive unless told to close, and HTTP/1.0 only when asked', () => {
    expect(keepsAlive(new Map(), 1)).toBe(true);
    expect(keepsAlive(new Map([['connection', 'Close']]), 1)).toBe(false);
    expect(keepsAlive(new Map(), 0)).toBe(false);
    expect(keepsAlive(new Map([['connection', 'keep-alive']]), 0)).toBe(true);
  });
});

describe('HTTP/1.1 response heads and framing', () => {
  it('reads the status line, with or without a reason', () => {
    expect(response('HTTP/1.1 204 No Content\r\nX: y\r\n\r\n')).toMatchObject({ status: 204, minor: 1, raw: ['X', 'y'] });
    expect(response('HTTP/1.0 200\r\n\r\n')).toMatchObject({ status: 200, minor: 0 });
  });

  it.each(['HTTP/1.1 2000 OK\r\n\r\n', 'HTTP/1.1 OK\r\n\r\n', 'HTP/1.1 200 OK\r\n\r\n', 'HTTP/1.1 099 x\r\n\r\n'])(
    'refuses the status line of %j with 502',
    (text) => expect(refusal(() => response(text))?.status).toBe(502),
  );

  it('has no body for HEAD, 204, 304 and 1xx; chunked, a length, or until close otherwise', () => {
    const ok = (headers: string) => response(`HTTP/1.1 200 OK\r\n${headers}\r\n`);
    expect(responseFraming(ok('Content-Length: 5\r\n'), 'HEAD')).toEqual({ kind: 'none' });
    expect(responseFraming(response('HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n'), 'GET')).toEqual({ kind: 'none' });
    expect(responseFraming(ok('Content-Length: 5\r\n'), 'GET')).toEqual({ kind: 'length', length: 5 });
    expect(responseFraming(ok('Content-Length: 5\r\nContent-Length: 5\r\n'), 'GET')).toEqual({ kind: 'length', length: 5 });
    expect(responseFraming(ok('Transfer-Encoding: gzip, chunked\r\n'), 'GET')).toEqual({ kind: 'chunked' });
    expect(responseFraming(ok('Transfer-Encoding: gzip\r\n'), 'GET')).toEqual({ kind: 'close' });
    expect(responseFraming(ok(''), 'GET')).toEqual({ kind: 'close' });
    expect(refusal(() => responseFraming(ok('Content-Length: 5\r\nContent-Length: 6\r\n'), 'GET'))?.status).toBe(502);
  });
});

describe('HTTP/1.1 bodies', () => {
  const chunked = '5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n';

  it.each([1, 2, 7, 1000])('decodes a chunked body fed %i bytes at a time, leaving what follows it', (step) => {
    expect(readBody({ kind: 'chunked' }, `${chunked}GET / HTTP/1.1`, step)).toEqual({
      payload: 'hello 0123456789',
      leftover: 'GET / HTTP/1.1',
      done: true,
    });
  });

  it('reads exactly Content-Length bytes, and a close-delimited body until the end', () => {
    expect(readBody({ kind: 'length', length: 4 }, 'abcdefg', 3)).toEqual({ payload: 'abcd', leftover: 'efg', done: true });
    const reader = new BodyReader({ kind: 'close' }, () => undefined);
    reader.read(Buffer.from('abc'), 0);
    expect(reader.done).toBe(false);
    expect(reader.end()).toBe(true);
    expect(new BodyReader({ kind: 'length', length: 10 }, () => undefined).end()).toBe(false);
  });

  it.each([
    ['a size that is not hex', 'x\r\n'],
    ['data longer than its size', '2\r\nabc\r\n0\r\n\r\n'],
    ['a size line ending in a bare LF', '2\nab\r\n'],
    ['a size of more than 12 hex digits', '1000000000000\r\n'],
    ['a control character in an extension', '1;a\u0001\r\n'],
  ])('refuses a chunked body with %s', (_name, wire) => {
    expect(refusal(() => readBody({ kind: 'chunked' }, wire, 1000))?.status).toBe(400);
  });
});
