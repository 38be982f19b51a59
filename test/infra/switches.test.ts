import { describe, expect, it } from 'vitest';
import { BUILT_IMAGE, BUILT_INIT_IMAGE, deployStack, makePipelinesDir, resolve, taxiPipelineYaml } from './harness.ts';

// Each deployStack() re-imports infra/index.ts under fresh mocks, so one file can hold several stacks.
const pipelines = () => makePipelinesDir({ yellow_taxi: taxiPipelineYaml('yellow_taxi') });

describe('pipekit:cloudArmor false (new and free-trial projects)', () => {
  it('deploys the console without a security policy, and without requiring an allowlist', async () => {
    const stack = await deployStack(pipelines(), { cloudArmor: 'false', allowedCidrs: [] });
    expect(stack.ofType('gcp:compute/securityPolicy:SecurityPolicy')).toEqual([]);
    expect(stack.one('gcp:compute/backendService:BackendService').inputs.securityPolicy).toBeUndefined();
    expect(stack.ofType('gcp:cloudrunv2/service:Service')).toHaveLength(1);
  });
});

describe('pipekit:domain unset', () => {
  it('serves HTTP on the load balancer IP, with no certificate', async () => {
    const stack = await deployStack(pipelines());
    expect(stack.ofType('gcp:compute/managedSslCertificate:ManagedSslCertificate')).toEqual([]);
    expect(stack.ofType('gcp:compute/globalForwardingRule:GlobalForwardingRule').map((r) => r.inputs.portRange)).toEqual(['80']);
    expect(await resolve(stack.outputs.consoleUrl)).toBe('http://34.120.0.7');
    // The policy is still there by default.
    expect(stack.ofType('gcp:compute/securityPolicy:SecurityPolicy')).toHaveLength(1);
  });
});

describe('pipekit:deletionProtection', () => {
  it('false: everything can be destroyed by `pulumi destroy`', async () => {
    const stack = await deployStack(pipelines(), { deletionProtection: 'false' });
    const sql = stack.one('gcp:sql/databaseInstance:DatabaseInstance');
    expect(sql.inputs.deletionProtection).toBe(false);
    expect(sql.inputs.settings.deletionProtectionEnabled).toBe(false);
    for (const r of [...stack.ofType('gcp:cloudrunv2/job:Job'), ...stack.ofType('gcp:cloudrunv2/service:Service')]) {
      expect(r.inputs.deletionProtection).toBe(false);
    }
    expect(stack.one('gcp:filestore/instance:Instance').inputs.deletionProtectionEnabled).toBe(false);
    expect(stack.one('gcp:storage/bucket:Bucket', 'pipekit-data-lake').inputs.forceDestroy).toBe(true);
    expect(stack.one('gcp:storage/bucket:Bucket', 'pipekit-fn-source-bucket').inputs.forceDestroy).toBe(true);
    expect(stack.one('gcp:bigquery/dataset:Dataset').inputs.deleteContentsOnDestroy).toBe(true);
    // Dropping users/databases one by one fails while they own objects; the instance deletion removes them.
    expect(stack.one('gcp:sql/user:User').inputs.deletionPolicy).toBe('ABANDON');
    expect(stack.ofType('gcp:sql/database:Database').every((d) => d.inputs.deletionPolicy === 'ABANDON')).toBe(true);
  });

  it('true by default on Cloud SQL, Cloud Run and Filestore', async () => {
    const stack = await deployStack(pipelines());
    expect(stack.one('gcp:sql/databaseInstance:DatabaseInstance').inputs.deletionProtection).toBe(true);
    expect(stack.one('gcp:cloudrunv2/job:Job').inputs.deletionProtection).toBe(true);
    expect(stack.one('gcp:cloudrunv2/service:Service').inputs.deletionProtection).toBe(true);
    expect(stack.one('gcp:filestore/instance:Instance').inputs.deletionProtectionEnabled).toBe(true);
  });
});

describe('other switches', () => {
  it('pipekit:dbBackups false turns backups and PITR off', async () => {
    const stack = await deployStack(pipelines(), { dbBackups: 'false' });
    expect(stack.one('gcp:sql/databaseInstance:DatabaseInstance').inputs.settings.backupConfiguration).toMatchObject({
      enabled: false,
      pointInTimeRecoveryEnabled: false,
    });
  });

  it('pipekit:console false deploys jobs but no console, load balancer or policy', async () => {
    const stack = await deployStack(pipelines(), { console: 'false', allowedCidrs: [] });
    expect(stack.ofType('gcp:cloudrunv2/job:Job')).toHaveLength(1);
    expect(stack.ofType('gcp:cloudrunv2/service:Service')).toEqual([]);
    expect(stack.ofType('gcp:compute/backendService:BackendService')).toEqual([]);
    expect(stack.ofType('gcp:compute/securityPolicy:SecurityPolicy')).toEqual([]);
    expect(stack.outputs.consoleUrl).toBeUndefined();
  });

  it('without pipekit:image builds the image and deploys everything by the digest the build reports', async () => {
    const stack = await deployStack(pipelines(), { image: undefined });
    expect(
      stack
        .ofType('command:local:Command')
        .map((c) => c.name)
        .sort(),
    ).toEqual(['pipekit-image-build-cloud-build', 'pipekit-network-teardown']);
    expect(
      stack
        .ofType('gcp:cloudrunv2/job:Job')
        .map((j) => j.inputs.template.template.containers[0].image)
        .sort(),
    ).toEqual([BUILT_IMAGE, BUILT_INIT_IMAGE].sort());
    expect(stack.ofType('gcp:cloudrunv2/service:Service')).toHaveLength(1);
    expect(await resolve(stack.outputs.image)).toBe(BUILT_IMAGE);
    expect(stack.outputs.nextStep).toBeUndefined();
  });

  it('refuses an image given by tag before declaring anything', async () => {
    await expect(deployStack(pipelines(), { image: 'europe-west1-docker.pkg.dev/p/pipekit/pipekit:latest' })).rejects.toThrow(
      /pipekit:image.*not pinned by digest/,
    );
  });
});
