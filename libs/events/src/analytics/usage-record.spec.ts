import { decodeUsage, decodeUsageRecord, encodeUsageRecord, encodeUsageSummary, UsageRecord, UsageSummary } from './usage-record';

function record(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    recordId: '0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b',
    gatewayId: 'gw-dc1-a',
    dc: 'dc1',
    apiId: '0190a5b2-0000-7000-8000-000000000001',
    applicationId: '0190a5b2-0000-7000-8000-000000000002',
    method: 'GET',
    status: 200,
    latencyMs: 12.5,
    requestBytes: 0,
    responseBytes: 512,
    at: '2031-06-30T12:00:30.123Z',
    ...overrides,
  };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function reasonOf(value: unknown): string {
  const result = decodeUsageRecord(json(value));
  if (result.ok) throw new Error('expected a refusal');
  return result.reason;
}

describe('encodeUsageRecord', () => {
  it('keys the record by API and carries the DC and gateway in headers', () => {
    const encoded = encodeUsageRecord(record());
    expect(encoded.key).toBe(record().apiId);
    expect(encoded.headers).toEqual({ originDc: 'dc1', gatewayId: 'gw-dc1-a' });
    expect(JSON.parse(encoded.value.toString('utf8'))).toEqual(record());
  });

  it('writes exactly what JSON.stringify writes, whatever the strings and numbers hold', () => {
    const odd = ['plain', 'quote " and \\ backslash', 'tab\tnew\nline\u0001', 'ünïcödé ✓ 𝄞', '\u2028\u2029', '</script>', ''];
    const numbers = [0, -0, 1.5, 1e21, 1e-7, 86_400_000, NaN, Infinity];
    for (const text of odd)
      for (const n of numbers) {
        const value: UsageRecord = {
          recordId: text,
          gatewayId: text,
          dc: text,
          apiId: text,
          applicationId: text === '' ? null : text,
          method: text,
          status: n,
          latencyMs: n,
          requestBytes: n,
          responseBytes: n,
          at: text,
        };
        expect(encodeUsageRecord(value).value.toString('utf8')).toBe(JSON.stringify(value));
        const { requestBytes: _request, ...noRequestBytes } = value;
        expect(encodeUsageRecord(noRequestBytes).value.toString('utf8')).toBe(JSON.stringify(noRequestBytes));
      }
  });

  it('leaves out byte counts that were not measured', () => {
    const { requestBytes: _request, responseBytes: _response, ...bare } = record();
    expect(Object.keys(JSON.parse(encodeUsageRecord(bare).value.toString('utf8')))).not.toContain('requestBytes');
  });
});

describe('decodeUsageRecord', () => {
  it('reads back what encodeUsageRecord wrote', () => {
    expect(decodeUsageRecord(encodeUsageRecord(record()).value)).toEqual({ ok: true, record: record() });
  });

  it('accepts a request without an application and without byte counts', () => {
    const { requestBytes: _request, responseBytes: _response, ...bare } = record({ applicationId: null });
    expect(decodeUsageRecord(json(bare))).toEqual({ ok: true, record: bare });
  });

  it('ignores fields it does not know and returns only its own', () => {
    const result = decodeUsageRecord(json({ ...record(), path: '/charges', region: 'eu' }));
    expect(result).toEqual({ ok: true, record: record() });
  });

  it('lowercases the record id so that one id is counted once', () => {
    const result = decodeUsageRecord(json(record({ recordId: '0190A5B2-7C3D-7E4F-8A1B-2C3D4E5F6A7B' })));
    expect(result.ok && result.record.recordId).toBe('0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b');
  });

  it('refuses a record without a value', () => {
    expect(decodeUsageRecord(null)).toEqual({ ok: false, reason: 'record has no value' });
  });

  it('refuses a value that is not JSON', () => {
    expect(decodeUsageRecord(Buffer.from('{"recordId": ', 'utf8'))).toEqual({ ok: false, reason: 'value is not valid JSON' });
  });

  it('refuses JSON that is not an object', () => {
    expect(reasonOf([record()])).toBe('record: must be a JSON object');
    expect(reasonOf('usage')).toBe('record: must be a JSON object');
  });

  it.each([
    ['recordId', 'not-a-uuid', 'record.recordId: must be a UUID'],
    ['gatewayId', '', 'record.gatewayId: must be a string of 1..200 characters without control characters'],
    ['dc', 'DC 1', 'record.dc: must match ^[a-z][a-z0-9]{0,15}$'],
    ['apiId', 'x'.repeat(201), 'record.apiId: must be a string of 1..200 characters without control characters'],
    ['applicationId', '', 'record.applicationId: must be a string of 1..200 characters without control characters, or null'],
    ['method', 'GET /', 'record.method: must be an HTTP method token of 1..32 characters'],
    ['status', 600, 'record.status: must be an integer 100..599'],
    ['status', 99, 'record.status: must be an integer 100..599'],
    ['status', 200.5, 'record.status: must be an integer 100..599'],
    ['status', '200', 'record.status: must be an integer 100..599'],
    ['latencyMs', -1, 'record.latencyMs: must be a number 0..86400000'],
    ['latencyMs', '12', 'record.latencyMs: must be a number 0..86400000'],
    ['latencyMs', 86_400_001, 'record.latencyMs: must be a number 0..86400000'],
    ['apiId', 'api\u0000', 'record.apiId: must be a string of 1..200 characters without control characters'],
    ['applicationId', 'app\ud800', 'record.applicationId: must be a string of 1..200 characters without control characters, or null'],
    ['requestBytes', -1, 'record.requestBytes: must be an integer >= 0 when present'],
    ['responseBytes', null, 'record.responseBytes: must be an integer >= 0 when present'],
    ['at', '2031-06-30T12:00:30', 'record.at: must be an ISO-8601 date-time with an offset, from 1970 to 9998'],
    ['at', '2031-13-30T12:00:30Z', 'record.at: must be an ISO-8601 date-time with an offset, from 1970 to 9998'],
    ['at', '1969-12-31T23:59:59Z', 'record.at: must be an ISO-8601 date-time with an offset, from 1970 to 9998'],
    ['at', '9999-06-30T12:00:00Z', 'record.at: must be an ISO-8601 date-time with an offset, from 1970 to 9998'],
  ])('refuses a bad %s (case %#)', (field, value, reason) => {
    expect(reasonOf({ ...record(), [field]: value })).toBe(reason);
  });

  it('refuses a record without a required field', () => {
    const { applicationId: _applicationId, ...withoutApplication } = record();
    expect(reasonOf(withoutApplication)).toBe(
      'record.applicationId: must be a string of 1..200 characters without control characters, or null',
    );
  });

  it('names every field at fault, never a value', () => {
    const reason = reasonOf({ recordId: 'secret-looking-value', status: 'x' });
    expect(reason).toContain('record.recordId: must be a UUID');
    expect(reason).toContain('record.status:');
    expect(reason).toMatch(/; and \d+ more$/);
    expect(reason).not.toContain('secret-looking-value');
  });
});

describe('decodeUsage', () => {
  const summary: UsageSummary = {
    kind: 'summary',
    recordId: '0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b',
    gatewayId: 'gw-1',
    dc: 'dc1',
    apiId: 'api-1',
    applicationId: null,
    minute: '2026-12-03T10:00:00.000Z',
    requests: 3,
    errors: 1,
    clientErrors: 1,
    latencyMsSum: 10.5,
    latencyMsMax: 7,
    requestBytes: 20,
    responseBytes: 300,
  };
  const value = (fields: Record<string, unknown>) => Buffer.from(JSON.stringify(fields));

  it('reads back a summary that encodeUsageSummary wrote, and a usage record of one request', () => {
    const encoded = encodeUsageSummary(summary);
    expect(encoded).toMatchObject({ key: 'api-1', headers: { originDc: 'dc1', gatewayId: 'gw-1' } });
    expect(decodeUsage(encoded.value)).toEqual({ ok: true, usage: summary });
    const one = record();
    expect(decodeUsage(encodeUsageRecord(one).value)).toEqual({ ok: true, usage: one });
  });

  it('refuses a minute that does not start a minute, counts that do not add up, and an unknown kind', () => {
    const reason = (fields: Record<string, unknown>) => {
      const decoded = decodeUsage(value({ ...summary, ...fields }));
      return decoded.ok ? 'accepted' : decoded.reason;
    };
    expect(reason({ minute: '2026-12-03T10:00:01.000Z' })).toContain('record.minute:');
    expect(reason({ requests: 0 })).toContain('record.requests:');
    expect(reason({ errors: 4 })).toContain('record.errors:');
    expect(reason({ clientErrors: 3 })).toContain('record.clientErrors:');
    expect(reason({ latencyMsMax: 11 })).toContain('record.latencyMsMax:');
    expect(reason({ requestBytes: -1 })).toContain('record.requestBytes:');
    expect(reason({ kind: 'other' })).toBe('record.kind: must be "summary" when present');
    expect(reason({ recordId: 'x' })).toContain('record.recordId:');
  });
});
