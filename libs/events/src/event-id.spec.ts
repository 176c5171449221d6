import { isUuid, newEventId, uuidV7Time } from './event-id';

describe('event ids', () => {
  it('are UUIDv7s of the RFC 9562 variant', () => {
    const id = newEventId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isUuid(id)).toBe(true);
  });

  it('carry the time they were made', () => {
    const before = Date.now();
    const time = uuidV7Time(newEventId())!;
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('sort in the order they were made, even within one millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => newEventId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('keep increasing when the clock steps back', () => {
    const now = jest.spyOn(Date, 'now');
    try {
      now.mockReturnValue(4_000_000_000_000);
      const first = newEventId();
      now.mockReturnValue(3_999_999_999_000);
      const second = newEventId();
      expect(second > first).toBe(true);
    } finally {
      now.mockRestore();
    }
  });

  it('recognise UUIDs of any version and refuse other strings', () => {
    expect(isUuid('123e4567-e89b-12d3-a456-426614174000')).toBe(true);
    expect(isUuid('6FA459EA-EE8A-4CA4-894E-DB77E160355E')).toBe(true);
    expect(isUuid('123e4567-e89b-02d3-a456-426614174000')).toBe(false);
    expect(isUuid('123e4567-e89b-12d3-c456-426614174000')).toBe(false);
    expect(isUuid('123e4567e89b12d3a456426614174000')).toBe(false);
    expect(isUuid(42)).toBe(false);
    expect(uuidV7Time('123e4567-e89b-12d3-a456-426614174000')).toBeNull();
  });
});
