/** Where `{{ secret('name') }}` values come from. */
export interface SecretSource {
  /** A human description for messages: `.pipekit/secrets.env`, `Secret Manager (project p)`. */
  readonly description: string;
  /** The secret's value; throws a PipekitError naming the secret and what to do when it cannot. */
  get(name: string): Promise<string>;
}
