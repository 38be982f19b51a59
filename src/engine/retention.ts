import type { Session } from './session.ts';

/**
 * Applies WORKSPACE_RETENTION: run folders older than it go, except the
 * newest succeeded output of every block, which `run --block` reuses. Mage's
 * `.variables` folder only ever grows.
 */
export async function cleanWorkspace(session: Session): Promise<number> {
  // One query for every block (it was one per block, after every run).
  return session.workspace.clean(session.retentionMs, await session.store.latestOutputUris());
}
