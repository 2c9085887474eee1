import { Router } from 'express';
import type { AppDeps } from '../app';

const READY_DEADLINE_MS = 2_000;

/** `GET /healthz`: the process is up. `GET /readyz`: Temporal answers and a worker polls. */
export function healthRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks = { temporal: false, worker: false };
    try {
      // A deadline: with Temporal unreachable the call would wait for a connection, not fail.
      await deps.client.connection.withDeadline(Date.now() + READY_DEADLINE_MS, () =>
        deps.client.workflowService.getSystemInfo({}),
      );
      checks.temporal = true;
      checks.worker = await deps.workerReady();
    } catch (err) {
      deps.logger.warn({ err }, 'readiness check failed');
    }
    const ready = checks.temporal && checks.worker;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  return router;
}
