import { ConfigError } from '../../src/errors.ts';

/**
 * Reads the variables a Pulumi command resource hands its script: a missing
 * one means the script was run by hand, so the error says which resource sets it.
 */
export function requiredEnv(env: NodeJS.ProcessEnv, setBy: string): (key: string) => string {
  return (key) => {
    const value = env[key];
    if (!value) throw new ConfigError({ file: 'environment', key, message: 'is not set', hint: setBy });
    return value;
  };
}
