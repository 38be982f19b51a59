import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NETWORKING_PEERING, tearDownNetwork } from '../../infra/build/network-teardown.ts';
import { ConnectionError } from '../../src/errors.ts';
import { PROJECT, REGION, deployStack, makePipelinesDir, taxiPipelineYaml, type DeployedStack } from './harness.ts';

/** Issue 12 defect 8: `pulumi destroy` completes on a stack with deletionProtection false. */
describe('pulumi destroy, as declared', () => {
  let stack: DeployedStack;
  beforeAll(async () => {
    stack = await deployStack(makePipelinesDir({ yellow_taxi: taxiPipelineYaml('yellow_taxi') }), {
      deletionProtection: 'false',
      image: undefined,
    });
  }, 60_000);

  const teardown = () => stack.one('command:local:Command', 'pipekit-network-teardown');

  it('removes the peering and the subnet in a teardown step that runs after everything using the network', () => {
    expect(teardown().inputs.delete).toMatch(/--import tsx infra\/build\/network-teardown\.ts$/);
    expect(teardown().inputs.create).toBeUndefined();
    expect(teardown().inputs.environment).toMatchObject({ PIPEKIT_TEARDOWN_PROJECT: PROJECT, PIPEKIT_TEARDOWN_REGION: REGION });
    // Deleted before the network, the subnet, the peering range and the connection…
    expect(teardown().options.dependsOn).toEqual(
      expect.arrayContaining(['pipekit-network-vpc', 'pipekit-network-subnet', 'pipekit-network-psa-range', 'pipekit-network-psa']),
    );
    // …and after Cloud SQL, Filestore and every Cloud Run workload.
    const users = [
      stack.one('gcp:sql/databaseInstance:DatabaseInstance'),
      stack.one('gcp:filestore/instance:Instance'),
      ...stack.ofType('gcp:cloudrunv2/job:Job'),
      ...stack.ofType('gcp:cloudrunv2/service:Service'),
    ];
    for (const user of users) expect(user.options.dependsOn, user.name).toContain('pipekit-network-teardown');
  });

  it('drops the service-networking connection from the stack, since Google refuses to delete it while Cloud SQL can still be restored', () => {
    expect(stack.one('gcp:servicenetworking/connection:Connection').inputs.deletionPolicy).toBe('ABANDON');
  });

  it('lets every stateful resource be deleted: no protection, no retained resources', () => {
    const sql = stack.one('gcp:sql/databaseInstance:DatabaseInstance').inputs;
    expect([sql.deletionProtection, sql.settings.deletionProtectionEnabled]).toEqual([false, false]);
    expect(stack.one('gcp:filestore/instance:Instance').inputs.deletionProtectionEnabled).toBe(false);
    for (const r of [...stack.ofType('gcp:cloudrunv2/job:Job'), ...stack.ofType('gcp:cloudrunv2/service:Service')])
      expect(r.inputs.deletionProtection, r.name).toBe(false);
    for (const bucket of stack.ofType('gcp:storage/bucket:Bucket')) expect(bucket.inputs.forceDestroy, bucket.name).toBe(true);
    expect(stack.one('gcp:bigquery/dataset:Dataset').inputs.deleteContentsOnDestroy).toBe(true);
    expect(stack.resources.filter((r) => r.options.protect || r.options.retainOnDelete).map((r) => r.name)).toEqual([]);
  });
});

/** A Compute Engine stand-in: removePeering, subnet deletion that is "in use" a few times, operations. */
async function startComputeFake(options: { inUse: number; peering?: boolean; other?: string }) {
  const calls: string[] = [];
  let inUse = options.inUse;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
    calls.push(`${req.method} ${req.url}${body ? ` ${JSON.stringify(body)}` : ''}`);
    const reply = (status: number, json: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    if (req.url!.endsWith('/removePeering')) {
      return options.peering === false
        ? reply(400, { error: { message: 'There is no peering named servicenetworking-googleapis-com' } })
        : reply(200, { name: 'op-peer', status: 'DONE' });
    }
    if (req.method === 'DELETE') {
      if (options.other)
        return reply(200, { name: 'op-del', status: 'DONE', error: { errors: [{ code: 'QUOTA', message: options.other }] } });
      if (inUse-- > 0)
        return reply(200, {
          name: 'op-del',
          status: 'DONE',
          error: {
            errors: [
              {
                code: 'RESOURCE_IN_USE_BY_ANOTHER_RESOURCE',
                message: "The subnetwork resource 'pipekit-subnet' is already being used by 'serverless-ipv4-1'",
              },
            ],
          },
        });
      return reply(200, { name: 'op-del', status: 'DONE' });
    }
    reply(404, { error: { message: 'not found' } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, close: () => new Promise((r) => server.close(r)) };
}

const ENV = {
  PIPEKIT_TEARDOWN_PROJECT: PROJECT,
  PIPEKIT_TEARDOWN_REGION: REGION,
  PIPEKIT_TEARDOWN_NETWORK: 'pipekit-vpc',
  PIPEKIT_TEARDOWN_SUBNET: 'pipekit-subnet',
};

describe('the teardown step pulumi destroy runs', () => {
  let fake: Awaited<ReturnType<typeof startComputeFake>>;
  afterAll(() => fake?.close());

  it('removes the service-networking peering, then deletes the subnet, waiting while Cloud Run still holds it', async () => {
    fake = await startComputeFake({ inUse: 2 });
    const lines: string[] = [];
    await tearDownNetwork(ENV, { endpoint: fake.url, retryMs: 1, log: (l) => lines.push(l) });
    expect(fake.calls[0]).toBe(
      `POST /compute/v1/projects/${PROJECT}/global/networks/pipekit-vpc/removePeering {"name":"${SERVICE_NETWORKING_PEERING}"}`,
    );
    expect(fake.calls.filter((c) => c.startsWith('DELETE'))).toEqual(
      Array(3).fill(`DELETE /compute/v1/projects/${PROJECT}/regions/${REGION}/subnetworks/pipekit-subnet`),
    );
    expect(lines.filter((l) => /still in use/.test(l))).toHaveLength(2);
    expect(lines.at(-1)).toBe('subnet pipekit-subnet is deleted');
    await fake.close();
  });

  it('a stack whose peering is already gone still tears down', async () => {
    fake = await startComputeFake({ inUse: 0, peering: false });
    await expect(tearDownNetwork(ENV, { endpoint: fake.url, retryMs: 1 })).resolves.toBeUndefined();
    await fake.close();
  });

  it('any other refusal fails at once, naming the subnet and the reason', async () => {
    fake = await startComputeFake({ inUse: 0, other: 'Quota exceeded for quota metric Write requests' });
    await expect(tearDownNetwork(ENV, { endpoint: fake.url, retryMs: 1 })).rejects.toThrow(
      /subnet pipekit-subnet: could not be deleted: QUOTA: Quota exceeded/,
    );
    expect(fake.calls.filter((c) => c.startsWith('DELETE'))).toHaveLength(1);
    await fake.close();
  });

  it('gives up with an error that says to run destroy again once the wait runs out', async () => {
    fake = await startComputeFake({ inUse: 1_000 });
    const error = await tearDownNetwork(ENV, { endpoint: fake.url, retryMs: 1, giveUpMs: 20 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).hint).toMatch(/pulumi destroy` again later/);
  });
});
