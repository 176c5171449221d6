import { DomainError } from './domain-error';
import { distinct, InputCheck, isHttpUrl, isIsoDateTime, isSha256Hex } from './input-check';

describe('InputCheck', () => {
  it('throws nothing when every rule holds', () => {
    expect(() => new InputCheck().require(true, 'name', 'ok').throwIfAny('X.INVALID_INPUT')).not.toThrow();
  });

  it('throws one bad-user-input error naming every field at fault, each once', () => {
    const check = new InputCheck().require(false, 'name', 'blank').require(false, 'tiers', 'empty').require(false, 'name', 'too long');
    let error: unknown;
    try {
      check.throwIfAny('X.INVALID_INPUT');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'X.INVALID_INPUT', kind: 'BAD_USER_INPUT', fields: ['name', 'tiers'] });
    expect((error as DomainError).message).toBe('name: blank; tiers: empty; name: too long');
  });
});

describe('input rules', () => {
  it('accepts http and https URLs only', () => {
    expect(['http://a', 'https://a.b:8443/x'].map(isHttpUrl)).toEqual([true, true]);
    expect(['ftp://a', 'file:///etc/passwd', '//a', 'a.b', 42].map(isHttpUrl)).toEqual([false, false, false, false, false]);
  });

  it('accepts ISO-8601 date-times with an offset only', () => {
    expect(['2030-01-01T00:00:00Z', '2030-01-01T00:00:00.123+02:00'].map(isIsoDateTime)).toEqual([true, true]);
    expect(['2030-01-01', '2030-01-01T00:00:00', '2030-13-01T00:00:00Z', 'Tue, 1 Jan 2030'].map(isIsoDateTime)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('accepts 64 lowercase hex characters as a SHA-256', () => {
    expect(isSha256Hex('0f'.repeat(32))).toBe(true);
    expect(isSha256Hex('0F'.repeat(32))).toBe(false);
  });

  it('removes repeats and keeps the first position', () => {
    expect(distinct(['b', 'a', 'b'])).toEqual(['b', 'a']);
  });
});
