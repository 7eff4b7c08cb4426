/**
 * The signature engines (ed25519 in libsodium's key formats, dummy), signatures in detached
 * metadata, and GnuPG's key listings and status lines as the GPG code reads them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Variant } from '../../../src/glib/gvariant.js';
import { DummySign } from '../../../src/repo/sign/dummy.js';
import { Ed25519Sign } from '../../../src/repo/sign/ed25519.js';
import { appendSignature, replaceSignatures, signaturesIn } from '../../../src/repo/sign/detached.js';
import { signEngine } from '../../../src/repo/sign/registry.js';
import { parseKeyListing, findKey, splitUserId } from '../../../src/repo/sign/gpg/keys.js';
import { parseVerifyStatus } from '../../../src/repo/sign/gpg/verify.js';
import { describeSignature } from '../../../src/repo/sign/gpg/describe.js';
import { wkdUrls } from '../../../src/repo/sign/gpg/remote-keys.js';
import { splitKeyPathList } from '../../../src/repo/sign/gpg/keyrings.js';
import { tempDir } from '../../common/tmp.js';

/** A libsodium-format key pair: secret = base64(seed || public), public = base64(public). */
function keyPair(): { secret: string; public: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { secret: Buffer.concat([seed, pub]).toString('base64'), public: pub.toString('base64') };
}

test('ed25519: signs with a libsodium secret key, verifies with its public key, refuses others', () => {
  const k = keyPair();
  const other = keyPair();
  const e = new Ed25519Sign();
  e.setSecretKey(k.secret);
  const data = Buffer.from('commit bytes');
  const sig = e.sign(data);
  assert.equal(sig.length, 64);
  const v = new Ed25519Sign();
  v.setPublicKey(k.public);
  assert.match(v.verify(data, [sig]), /^ed25519: Signature verified successfully with key '[0-9a-f]{64}'$/);
  assert.throws(() => v.verify(Buffer.from('other bytes'), [sig]), /ed25519: Signature couldn't be verified with: key '/);
  const w = new Ed25519Sign();
  w.setPublicKey(other.public);
  assert.throws(() => w.verify(data, [sig]), /Signature couldn't be verified/);
  assert.throws(() => v.verify(data, [sig.subarray(1)]), /Invalid signature length of 63 bytes, expected 64/);
  assert.throws(() => v.verify(data, null), /commit have no signatures of my type/);
  assert.throws(() => e.setSecretKey(k.public), /Incorrect ed25519 secret key/);
  assert.throws(() => e.setPublicKey(k.secret), /Incorrect ed25519 public key/);
});

test('ed25519: keys files, key directories and revoked keys', () => {
  const dir = tempDir('sign-keys-');
  const k = keyPair();
  const e = new Ed25519Sign();
  e.setSecretKey(k.secret);
  const data = Buffer.from('x');
  const sig = e.sign(data);
  const many = Array.from({ length: 5 }, () => keyPair().public);
  fs.writeFileSync(path.join(dir, 'keys'), many.join('\n') + '\n');
  const v = new Ed25519Sign();
  v.loadPublicKeys({ filename: path.join(dir, 'keys') });
  assert.throws(() => v.verify(data, [sig]), /Signature couldn't be verified; tried 5 keys/);
  fs.appendFileSync(path.join(dir, 'keys'), `${k.public}\n`);
  const v2 = new Ed25519Sign();
  v2.loadPublicKeys({ filename: path.join(dir, 'keys') });
  assert.match(v2.verify(data, [sig]), /verified successfully/);
  fs.writeFileSync(path.join(dir, 'empty'), '');
  assert.throws(() => new Ed25519Sign().loadPublicKeys({ filename: path.join(dir, 'empty') }), /no valid keys in file/);
  assert.throws(() => new Ed25519Sign().loadPublicKeys({ filename: dir }), /is not a regular file/);
  fs.mkdirSync(path.join(dir, 'trusted.ed25519.d'));
  fs.writeFileSync(path.join(dir, 'trusted.ed25519.d', 'k'), `${k.public}\n`);
  const v3 = new Ed25519Sign();
  v3.loadPublicKeys({ basedir: dir });
  assert.match(v3.verify(data, [sig]), /verified successfully/);
  fs.writeFileSync(path.join(dir, 'revoked.ed25519'), `${k.public}\n`);
  const v4 = new Ed25519Sign();
  v4.loadPublicKeys({ basedir: dir });
  assert.throws(() => v4.verify(data, [sig]), /no signatures found/);
});

test('dummy: only with OSTREE_DUMMY_SIGN_ENABLED=1; the signature is the key text', () => {
  const saved = process.env['OSTREE_DUMMY_SIGN_ENABLED'];
  try {
    delete process.env['OSTREE_DUMMY_SIGN_ENABLED'];
    assert.throws(() => new DummySign().setSecretKey('k'), /only for ostree testing/);
    process.env['OSTREE_DUMMY_SIGN_ENABLED'] = '1';
    const d = new DummySign();
    d.setSecretKey('dummysign');
    assert.deepEqual(d.sign(Buffer.from('x')), Buffer.from('dummysign'));
    d.setPublicKey('dummysign');
    assert.equal(d.verify(Buffer.alloc(0), [Buffer.from('dummysign')]), 'dummy: Signature verified');
    d.setPublicKey('wrong');
    assert.throws(() => d.verify(Buffer.alloc(0), [Buffer.from('dummysign')]), /incorrect signatures found: 1/);
  } finally {
    if (saved === undefined) delete process.env['OSTREE_DUMMY_SIGN_ENABLED']; else process.env['OSTREE_DUMMY_SIGN_ENABLED'] = saved;
  }
  assert.throws(() => signEngine('trustme'), /^Error: Requested signature type is not implemented$|Requested signature type is not implemented/);
});

test('detached metadata: signatures appended per key in GVariantDict order; removal keeps the others', () => {
  const meta: Array<[string, Variant]> = [['note', new Variant('s', 'x')]];
  const a = appendSignature(meta, 'ostree.sign.dummy', Buffer.from('one'));
  const b = appendSignature(a, 'ostree.sign.dummy', Buffer.from('two'));
  assert.deepEqual(signaturesIn(b, 'ostree.sign.dummy'), [Buffer.from('one'), Buffer.from('two')]);
  assert.deepEqual(b.map(([k]) => k).sort(), ['note', 'ostree.sign.dummy']);
  const c = replaceSignatures(b, 'ostree.sign.dummy', []);
  assert.deepEqual(c, [['note', new Variant('s', 'x')]]);
  assert.equal(signaturesIn([['ostree.gpgsigs', new Variant('s', 'not aay')]], 'ostree.gpgsigs'), null);
});

test('GnuPG: colon key listings, user IDs, key lookup, WKD URLs, gpgkeypath lists', () => {
  const listing = [
    'pub:-:2048:1:7FCA23D8472CDAFA:1378780182:0::-:::scSC::::::23::0:',
    'fpr:::::::::5E65DE75AB1C501862D476347FCA23D8472CDAFA:',
    'uid:-::::1378780182::AAAA::Ostree Tester <test@test.com>::::::::::0:',
    'sub:-:2048:1:DF20F58B408DEA49:1378780182:1500000000:::::e::::::23:',
    'fpr:::::::::CC47B2DFB520AEF231180725DF20F58B408DEA49:',
  ].join('\n');
  const [k] = parseKeyListing(listing);
  assert.equal(k!.subkeys[0]!.fingerprint, '5E65DE75AB1C501862D476347FCA23D8472CDAFA');
  assert.equal(k!.subkeys[1]!.expires, 1500000000);
  assert.equal(k!.uids[0]!.email, 'test@test.com');
  assert.equal(findKey([k!], '472CDAFA'), k);
  assert.equal(findKey([k!], 'DF20F58B408DEA49'), k);
  assert.equal(findKey([k!], 'nothex'), null);
  assert.deepEqual(splitUserId('Test Key 1'), { name: 'Test Key 1', comment: '', email: '' });
  assert.deepEqual(splitUserId('A B (work) <a@b.c>'), { name: 'A B', comment: 'work', email: 'a@b.c' });
  // upstream's test-remote-gpg-list-keys expects these for test@test.com
  assert.deepEqual(wkdUrls('test@test.com'), {
    advanced: 'https://openpgpkey.test.com/.well-known/openpgpkey/test.com/hu/iffe93qcsgp4c8ncbb378rxjo6cn9q6u?l=test',
    direct: 'https://test.com/.well-known/openpgpkey/hu/iffe93qcsgp4c8ncbb378rxjo6cn9q6u?l=test',
  });
  assert.equal(wkdUrls(''), null);
  assert.deepEqual(splitKeyPathList('a,b,'), ['a', 'b']);
  assert.deepEqual(splitKeyPathList(',b'), ['', 'b']);
  assert.throws(() => splitKeyPathList('a,b;c'), /more than one separator/);
});

test('GnuPG: status lines become upstream signature attributes and text', () => {
  const status = [
    '[GNUPG:] NEWSIG',
    '[GNUPG:] GOODSIG 7FCA23D8472CDAFA Ostree Tester <test@test.com>',
    '[GNUPG:] VALIDSIG 5E65DE75AB1C501862D476347FCA23D8472CDAFA 2026-12-06 1796540358 0 4 0 1 8 00 5E65DE75AB1C501862D476347FCA23D8472CDAFA',
    '[GNUPG:] NEWSIG',
    '[GNUPG:] ERRSIG D8228CFECA950D41 1 8 00 1796540358 9 7B3B1020D74479687FDB2273D8228CFECA950D41',
    '[GNUPG:] NO_PUBKEY D8228CFECA950D41',
  ].join('\n');
  const [good, missing] = parseVerifyStatus(status);
  assert.equal(good!.verdict, 'good');
  assert.equal(good!.timestamp, 1796540358);
  assert.equal(good!.algo, 'RSA');
  assert.equal(missing!.verdict, 'missing');
  const text = describeSignature({
    valid: false, sigExpired: false, keyExpired: false, keyRevoked: false, keyMissing: true,
    fingerprint: missing!.fingerprint, fingerprintPrimary: '', timestamp: 0, expTimestamp: 0, pubkeyAlgo: 'RSA',
    userName: '[unknown name]', userEmail: '[unknown email]', keyExpTimestamp: 0, keyExpTimestampPrimary: 0,
  }, '  ');
  assert.match(text, /^ {2}Signature made .* using RSA key ID D8228CFECA950D41\n {2}Can't check signature: public key not found\n$/);
});

test('signed static delta superblocks: wrapped with ed25519 signatures, verified, refused with another key', async () => {
  const { deltaSigner, verifyDeltaFile } = await import('../../../src/repo/sign/delta-sign.js');
  const { parseSigned } = await import('../../../src/repo/deltas/superblock.js');
  const dir = tempDir('delta-sign-');
  const k = keyPair();
  const superblock = Buffer.from('superblock bytes');
  const wrapped = deltaSigner({ keys: [k.secret] })(superblock);
  assert.deepEqual(parseSigned(wrapped)?.superblock, superblock);
  const file = path.join(dir, 'superblock');
  fs.writeFileSync(file, wrapped);
  assert.match(verifyDeltaFile(dir, 'ed25519', [k.public], null), /verified successfully/);
  assert.throws(() => verifyDeltaFile(file, 'ed25519', [keyPair().public], null), /Signature couldn't be verified/);
  fs.writeFileSync(file, superblock);
  assert.throws(() => verifyDeltaFile(file, 'ed25519', [k.public], null), /no signatures in static-delta/);
});
