// Pure classification of failed requests into what the user should be told.
import { ServerErrorCodes } from './protocol';

export type FailureKind = 'cancelled' | 'runner' | 'other';

/**
 * `runner` failures (unreachable host, bad token, no LXC here) get one notification with the
 * settings that fix them; `cancelled` is the answer to a stop and is no failure at all.
 */
export function classifyFailure(code: number | undefined, message: string): FailureKind {
  if (code === ServerErrorCodes.requestCancelled) {
    return 'cancelled';
  }
  if (code === ServerErrorCodes.runnerUnavailable) {
    return 'runner';
  }
  if (code === undefined && /cancel/i.test(message)) {
    return 'cancelled';
  }
  if (code === undefined && /runner|ECONNREFUSED|unreachable|unauthori[sz]ed|\b40[13]\b/i.test(message)) {
    return 'runner';
  }
  return 'other';
}
