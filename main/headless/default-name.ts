/**
 * The name a node goes by when the user gave none: the host name and the
 * first characters of the node id, so two nodes on one machine differ
 * (`myhost-ABCD`) and the name still says which machine a node runs on.
 * Decided at every start rather than saved, so a renamed machine follows.
 */
import { MAX_NAME_LENGTH } from '../model/limits.js';

/** Characters of the node id appended to the host name. */
export const NAME_ID_CHARACTERS = 4;

export function defaultNodeName(host: string, id: string): string {
  const suffix = id.replaceAll('-', '').slice(0, NAME_ID_CHARACTERS);
  const room = MAX_NAME_LENGTH - suffix.length - 1;
  const base = host.trim().slice(0, room) || 'lvs-node';
  return `${base}-${suffix}`;
}
