import type { Session } from './session.ts';

/**
 * Applies WORKSPACE_RETENTION: run folders older than it go, except the
 * newest succeeded output of every block, which `run --block` reuses. Mage's
 * `.variables` folder only ever grows.
 */
export async function cleanWorkspace(session: Session): Promise<number> {
  const keep = new Set<string>();
  for (const pipeline of session.project.pipelines.values()) {
    for (const block of pipeline.blocks) {
      const latest = await session.store.latestOutput(pipeline.name, block.uuid);
      if (latest) keep.add(latest.outputUri);
    }
  }
  return session.workspace.clean(session.retentionMs, keep);
}
