import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** A poller seen within this window counts as live (the server keeps stale pollers listed for minutes). */
const LIVE_WINDOW_MS = 70_000;

/** True when some worker polled the task queue for workflow tasks recently. */
export async function hasLivePoller(client: Client, namespace: string, taskQueue: string): Promise<boolean> {
  const res = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const now = Date.now();
  return (res.pollers ?? []).some((p) => {
    const seconds = Number(p.lastAccessTime?.seconds ?? 0);
    return now - seconds * 1000 < LIVE_WINDOW_MS;
  });
}
