/**
 * The commit object, `(a{sv}aya(say)sstayay)`: metadata, parent checksum (empty for none),
 * related objects, subject, body, timestamp (seconds, UTC), root dirtree and root dirmeta.
 */
import { deserialize, serialize, type Variant } from '../../glib/gvariant.js';
import { BE, wrapParse } from './common.js';
import { bytesToChecksum, checksumToBytes, sha256hex } from './checksum.js';

export interface CommitObject {
  metadata: Array<[string, Variant]>;
  parent: string | null;
  related: unknown[];
  subject: string;
  body: string;
  timestamp: bigint; // seconds since the epoch, UTC
  rootTree: string;
  rootMeta: string;
}
export const COMMIT_T = '(a{sv}aya(say)sstayay)';

export function serializeCommit(c: CommitObject): Buffer {
  return serialize(COMMIT_T, [
    c.metadata,
    c.parent ? checksumToBytes(c.parent) : Buffer.alloc(0),
    c.related,
    c.subject,
    c.body,
    c.timestamp,
    checksumToBytes(c.rootTree),
    checksumToBytes(c.rootMeta),
  ], BE);
}

export function parseCommit(data: Buffer, objName = 'commit'): CommitObject {
  return wrapParse(objName, () => {
    const [metadata, parent, related, subject, body, timestamp, rootTree, rootMeta] =
      deserialize(COMMIT_T, data, BE) as [Array<[string, Variant]>, Buffer, unknown[], string, string, bigint, Buffer, Buffer];
    return {
      metadata,
      parent: parent.length === 0 ? null : bytesToChecksum(parent, objName, 'parent'),
      related,
      subject,
      body,
      timestamp,
      rootTree: bytesToChecksum(rootTree, objName, 'root tree'),
      rootMeta: bytesToChecksum(rootMeta, objName, 'root dirmeta'),
    };
  });
}

export function commitMetadataValue(c: CommitObject, key: string): Variant | undefined {
  return c.metadata.find(([k]) => k === key)?.[1];
}

/** A string metadata value ('version', 'ostree.source-title', ...), undefined if absent or not a string. */
export function commitMetadataString(c: CommitObject, key: string): string | undefined {
  const v = commitMetadataValue(c, key);
  return v && v.type === 's' ? (v.value as string) : undefined;
}

/** ContentChecksum as shown by `ostree log/show`: sha256(root dirtree csum ‖ root dirmeta csum). */
export function commitContentChecksum(c: CommitObject): string {
  return sha256hex(checksumToBytes(c.rootTree), checksumToBytes(c.rootMeta));
}
