/**
 * The stack's own Hookline (the processes scripts/stack/hookline.sh runs): its API URLs and key
 * from .stack/env, its processes by name, and the subscriptions the fault cases register on it.
 */
import { api } from '../../faults/support/service';
import { readStackEnv, stackPid } from '../../support/stack';

/** Marks what the suite registers on the stack's tenant, so a later run can remove leftovers. */
export const TEST_DESCRIPTION = 'test:stack';

export interface StackHookline {
  /** Every API's base URL (HOOKLINE_API_URLS). */
  urls: string[];
  key: string;
  /** The tenant of `key` (HOOKLINE_TENANT). */
  tenant: string;
}

export function stackHookline(env = readStackEnv()): StackHookline {
  const urls = (env.HOOKLINE_API_URLS ?? '').split(',').filter(Boolean);
  if (urls.length < 2 || !env.HOOKLINE_API_KEY || !env.HOOKLINE_TENANT) {
    throw new Error(
      `${String(env.STACK_STATE_DIR)}/env has no two HOOKLINE_API_URLS and a tenant and key: run the stack up`,
    );
  }
  return { urls, key: env.HOOKLINE_API_KEY, tenant: env.HOOKLINE_TENANT };
}

/** The pid of one of the hook's processes (`hookline-api-1`, `hookline-worker-2`); throws if it does not run. */
export function hooklinePid(name: string): number {
  const pid = stackPid(name);
  if (pid === null) throw new Error(`${name} does not run (see .stack/logs/${name}.log)`);
  return pid;
}

/** Deletes the subscriptions of the stack's tenant that an earlier run of the suite left behind. */
export async function deleteLeftoverSubscriptions(env = readStackEnv()): Promise<number> {
  const { urls, key } = stackHookline(env);
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await api(
      urls[0]!,
      key,
      'GET',
      `/v1/subscriptions?limit=250${cursor ? `&cursor=${cursor}` : ''}`,
    );
    if (page.status !== 200) throw new Error(`listing subscriptions: ${page.status}`);
    for (const s of page.body.data as { id: string; description?: string | null }[]) {
      if (s.description === TEST_DESCRIPTION) ids.push(s.id);
    }
    cursor = page.body.nextCursor as string | null;
  } while (cursor);
  for (const id of ids) await api(urls[0]!, key, 'DELETE', `/v1/subscriptions/${id}`);
  return ids.length;
}
