/** Request expiry: nodes skip work whose caller has stopped waiting (a backlog after downtime). */

/** Slack for clock differences between machines before a request counts as expired. */
export const EXPIRY_GRACE_MS = 30_000;

/** Whether a request's `expiresAt` lies more than the grace period in the past. */
export function isExpired(
  expiresAt: string | undefined,
  now: number = Date.now(),
  graceMs: number = EXPIRY_GRACE_MS,
): boolean {
  if (expiresAt === undefined) return false;
  const deadline = Date.parse(expiresAt);
  return Number.isFinite(deadline) && now > deadline + graceMs;
}

/** The `expiresAt` of a request whose caller waits `timeoutMs` from now. */
export function expiresIn(timeoutMs: number, now: number = Date.now()): string {
  return new Date(now + timeoutMs).toISOString();
}
