// What the sync job queue (pg-boss's tables, in schema tripcal_jobs of the same database) holds,
// read in one statement for /healthz. pg-boss runs the statement, on its own connections.

export interface QueueDepth {
  /** Runs waiting (new, or failed and waiting for their retry). */
  queued: number;
  /** Runs under way on any replica. */
  running: number;
  /** How long the oldest of those has been in the queue; null when there is none. */
  oldest_job_age_seconds: number | null;
}

export async function queueDepth(db: { executeSql(text: string, values: unknown[]): Promise<{ rows: unknown[] }> }, queue: string): Promise<QueueDepth> {
  const { rows: [row] } = await db.executeSql(`SELECT
      count(*) FILTER (WHERE state IN ('created', 'retry'))::int AS queued,
      count(*) FILTER (WHERE state = 'active')::int AS running,
      floor(extract(epoch FROM now() - min(created_on)))::int AS oldest
    FROM tripcal_jobs.job WHERE name = $1 AND state IN ('created', 'retry', 'active')`, [queue]);
  const r = row as { queued: number; running: number; oldest: number | null } | undefined;
  return { queued: r?.queued ?? 0, running: r?.running ?? 0, oldest_job_age_seconds: r?.oldest ?? null };
}
