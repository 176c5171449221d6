import { ConfigError } from '@apim/events';

/** The message of the ConfigError that `load` throws; fails the test when it throws none or another error. */
export function configErrorMessage(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}
