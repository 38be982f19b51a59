/**
 * `pulumi destroy`, rehearsed on the graph: what Google refuses to delete.
 * Deletion protection (Pulumi's and Google's) stops a resource; a
 * private-services connection left behind (`deletionPolicy: ABANDON`) keeps
 * its VPC peering, and Google refuses to delete a network that is still
 * peered — where `pulumi destroy` stops (issue 12, item 8) — unless a
 * destroy-time command given that network removes the peering first.
 */
import type { Graph } from './graph.ts';

export interface DestroyRefusal {
  readonly resource: string;
  readonly type: string;
  readonly reason: string;
}

export function rehearseDestroy(graph: Graph): DestroyRefusal[] {
  const refusals: DestroyRefusal[] = [];
  for (const r of graph.resources) {
    if (r.type.startsWith('pipekit:')) continue;
    if (r.inputs.deletionProtection === true || r.inputs.settings?.deletionProtectionEnabled === true) {
      refusals.push({ resource: r.name, type: r.type, reason: 'deletion protection is on (set pipekit:deletionProtection false first)' });
    }
  }
  const abandoned = graph.ofType('gcp:servicenetworking/connection:Connection').filter((c) => c.inputs.deletionPolicy === 'ABANDON');
  for (const connection of abandoned) {
    const network = graph.byId(String(connection.inputs.network)) ?? graph.ofType('gcp:compute/network:Network')[0];
    // A destroy-time command given this network (a `delete` step) is what removes the peering before the VPC goes.
    const networkName = network?.state.name ?? network?.inputs.name;
    const teardown = graph
      .ofType('command:local:Command')
      .find((c) => c.inputs.delete && Object.values(c.inputs.environment ?? {}).some((v) => v === networkName || v === network?.id));
    if (teardown) continue;
    refusals.push({
      resource: network?.name ?? String(connection.inputs.network),
      type: 'gcp:compute/network:Network',
      reason: `the network is still peered with servicenetworking-googleapis-com: ${connection.name} is abandoned (deletionPolicy ABANDON), so its peering outlives the destroy and Google refuses to delete a peered network`,
    });
  }
  return refusals;
}
