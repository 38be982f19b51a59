/**
 * What `pulumi destroy` runs (the delete of a command resource, see
 * infra/components/network.ts) once Cloud SQL, Filestore and every Cloud Run
 * workload are gone, and before the subnet and the VPC are deleted:
 *
 * 1. removes the VPC peering that private services access created. Deleting
 *    the service-networking connection is refused for as long as Cloud SQL
 *    keeps a deleted instance restorable ("Producer services are still using
 *    this connection"), and while the peering exists the VPC cannot be
 *    deleted; removing the peering is what the Cloud console does.
 * 2. deletes the subnet, retrying while Cloud Run still holds addresses in
 *    it: Google documents a wait of 1–2 hours after the last Direct VPC egress
 *    workload is deleted. The provider then finds the subnet gone.
 *
 *   node --import tsx infra/build/network-teardown.ts
 *
 * Reads PIPEKIT_TEARDOWN_PROJECT, _REGION, _NETWORK, _SUBNET and optionally
 * PIPEKIT_COMPUTE_ENDPOINT (a local fake).
 */
import { fileURLToPath } from 'node:url';
import { ConnectionError, describeError } from '../../src/errors.ts';
import { googleRest } from './google-rest.ts';
import { requiredEnv } from './required-env.ts';

/** The peering private services access creates on the consumer VPC. */
export const SERVICE_NETWORKING_PEERING = 'servicenetworking-googleapis-com';

export interface TeardownOptions {
  readonly endpoint?: string;
  /** Between attempts to delete a subnet still in use. */
  readonly retryMs?: number;
  /** How long to keep trying: Google documents up to 2 hours. */
  readonly giveUpMs?: number;
  readonly log?: (line: string) => void;
}

interface Operation {
  name?: string;
  status?: string;
  selfLink?: string;
  error?: { errors?: { code?: string; message?: string }[] };
}

export async function tearDownNetwork(env: NodeJS.ProcessEnv, options: TeardownOptions = {}): Promise<void> {
  const need = requiredEnv(env, 'infra/components/network.ts sets it; run this through `pulumi destroy`');
  const project = need('PIPEKIT_TEARDOWN_PROJECT');
  const region = need('PIPEKIT_TEARDOWN_REGION');
  const network = need('PIPEKIT_TEARDOWN_NETWORK');
  const subnet = need('PIPEKIT_TEARDOWN_SUBNET');
  const log = options.log ?? (() => {});
  const api = computeClient(options.endpoint);
  const base = `/compute/v1/projects/${project}`;

  const removal = await api.call<Operation>(
    'POST',
    `${base}/global/networks/${network}/removePeering`,
    { name: SERVICE_NETWORKING_PEERING },
    [404, 400],
  );
  if (removal.status === undefined) log(`no peering ${SERVICE_NETWORKING_PEERING} on ${network}: nothing to remove`);
  else {
    await api.wait(removal, `${base}/global/operations`);
    log(`removed the peering ${SERVICE_NETWORKING_PEERING} from ${network}`);
  }

  const deadline = Date.now() + (options.giveUpMs ?? 150 * 60_000);
  for (let attempt = 1; ; attempt++) {
    const deletion = await api.call<Operation>('DELETE', `${base}/regions/${region}/subnetworks/${subnet}`, undefined, [404, 400]);
    const failure =
      deletion.status === undefined
        ? (deletion as { error?: { message?: string } }).error?.message
        : await api.wait(deletion, `${base}/regions/${region}/operations`, true);
    if (!failure || /not found/i.test(failure)) {
      log(`subnet ${subnet} is deleted`);
      return;
    }
    if (!/in ?use|being used|resourceInUseByAnotherResource/i.test(failure) || Date.now() > deadline) {
      throw new ConnectionError({
        target: `subnet ${subnet}`,
        message: `could not be deleted: ${failure}`,
        hint: 'Cloud Run keeps addresses in the subnet for up to 2 hours after its last workload is deleted: run `pulumi destroy` again later',
        retriable: false,
      });
    }
    log(
      `subnet ${subnet} is still in use by Cloud Run (attempt ${attempt}); trying again in ${Math.round((options.retryMs ?? 60_000) / 1000)}s`,
    );
    await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 60_000));
  }
}

function computeClient(endpoint: string | undefined) {
  const request = googleRest('https://compute.googleapis.com', endpoint);
  const client = {
    /** `tolerated` statuses come back as `{ error }` (no `status`) instead of throwing. */
    async call<T>(method: string, path: string, body?: unknown, tolerated: number[] = []): Promise<T> {
      const response = await request({
        method,
        path,
        body,
        target: 'Compute Engine API',
        unreachableHint: 'check the network and `gcloud auth application-default login`',
      });
      const json = (await response.json().catch(() => ({}))) as T & { error?: { message?: string } };
      if (response.ok) return json;
      if (tolerated.includes(response.status)) return { error: { message: json.error?.message ?? String(response.status) } } as T;
      throw new ConnectionError({
        target: 'Compute Engine API',
        message: `${method} ${path} answered ${response.status}: ${json.error?.message ?? ''}`,
        retriable: response.status >= 500,
      });
    },
    /** Polls an operation to DONE; returns its error message (or throws it unless `returnError`). */
    async wait(operation: Operation, operations: string, returnError = false): Promise<string | undefined> {
      let current = operation;
      while (current.status !== 'DONE') {
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        current = await client.call<Operation>('GET', `${operations}/${current.name}`);
      }
      const message = current.error?.errors?.map((e) => `${e.code}: ${e.message}`).join('; ');
      if (message && !returnError) throw new ConnectionError({ target: current.selfLink ?? 'operation', message, retriable: false });
      return message;
    },
  };
  return client;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  tearDownNetwork(process.env, { endpoint: process.env.PIPEKIT_COMPUTE_ENDPOINT, log: (line) => process.stderr.write(`${line}\n`) }).catch(
    (error: unknown) => {
      process.stderr.write(`pipekit network teardown failed: ${describeError(error)}\n`);
      process.exitCode = 1;
    },
  );
}
