import { LoginRateLimitedError } from './auth.errors';
import { LoginThrottle } from './login-throttle';

describe('LoginThrottle', () => {
  let now = 0;
  const throttle = () => new LoginThrottle(3, 60_000, () => now);

  beforeEach(() => (now = 1_000_000));

  it('refuses a username after too many failures in the window, and says when to retry', () => {
    const t = throttle();
    for (let i = 0; i < 3; i++) t.recordFailure('alice');
    now += 15_000;
    expect(() => t.assertAllowed('alice')).toThrow(LoginRateLimitedError);
    try {
      t.assertAllowed('alice');
    } catch (error) {
      expect((error as LoginRateLimitedError).retryAfterSeconds).toBe(45);
    }
  });

  it('counts each username apart', () => {
    const t = throttle();
    for (let i = 0; i < 3; i++) t.recordFailure('alice');
    expect(() => t.assertAllowed('bob')).not.toThrow();
  });

  it('forgets failures older than the window, and all of them after a success', () => {
    const t = throttle();
    for (let i = 0; i < 3; i++) t.recordFailure('alice');
    now += 61_000;
    expect(() => t.assertAllowed('alice')).not.toThrow();
    for (let i = 0; i < 2; i++) t.recordFailure('bob');
    t.recordSuccess('bob');
    t.recordFailure('bob');
    expect(() => t.assertAllowed('bob')).not.toThrow();
  });
});
