/**
 * The argument list each request channel accepts, as schemas. The Electron
 * IPC wrapper and the WebSocket bridge both validate every payload here
 * before it reaches the node, so the two doors cannot disagree.
 */
import { z } from 'zod';
import { MAX_ADDRESS_LENGTH } from '../model/limits.js';
import { CHANNELS, type RequestChannel } from './api.js';

export const REQUEST_PAYLOADS = {
  'lvs:get-status': z.tuple([]),
  'lvs:get-settings': z.tuple([]),
  'lvs:add-peer': z.tuple([z.string().min(1).max(MAX_ADDRESS_LENGTH)]),
  // Field-by-field checks (with one-line messages) happen in validateSettingsPatch.
  'lvs:update-settings': z.tuple([z.record(z.string(), z.unknown())]),
  'lvs:set-paused': z.tuple([z.boolean()]),
} as const satisfies Record<RequestChannel, z.ZodType>;

export function isRequestChannel(channel: unknown): channel is RequestChannel {
  return typeof channel === 'string' && channel !== 'lvs:event' && (CHANNELS as readonly string[]).includes(channel);
}

/** Validates one request's arguments; the error is one line naming the channel. */
export function checkPayload(channel: RequestChannel, args: unknown): { ok: true; args: unknown[] } | { ok: false; error: string } {
  const parsed = REQUEST_PAYLOADS[channel].safeParse(args);
  if (parsed.success) return { ok: true, args: parsed.data as unknown[] };
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `argument ${issue.path.join('.')}` : 'arguments';
  return { ok: false, error: `${channel}: ${where}: ${issue?.message ?? 'invalid'}` };
}
