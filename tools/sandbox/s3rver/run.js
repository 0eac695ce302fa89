'use strict';
// The sandbox's S3-compatible server (started by tools/sandbox/s3.cpp): s3rver on 127.0.0.1,
// with the generated credentials as its only key pair and one bucket. Everything comes from the
// environment, so the secret key never appears in a command line:
//   S3RVER_DIR, S3RVER_PORT, S3RVER_BUCKET, S3RVER_ACCESS_KEY_ID, S3RVER_SECRET_ACCESS_KEY
//
// Two adjustments to s3rver 3.7.1, both through its public modules:
//  * it keeps x-amz-server-side-encryption as object metadata (real S3 answers it on HEAD/GET),
//    so backups uploaded with and without SSE can be told apart;
//  * its built-in S3RVER/S3RVER key pair is replaced by the generated one. s3rver checks that
//    the access key id exists but does not verify SigV4 signatures: the signing is proven
//    against botocore in tests/unit/backups_s3_test.cpp instead.
const S3rver = require('s3rver');
const S3Object = require('s3rver/lib/models/object');
const AWSAccount = require('s3rver/lib/models/account');

const env = process.env;
for (const name of ['S3RVER_DIR', 'S3RVER_PORT', 'S3RVER_BUCKET', 'S3RVER_ACCESS_KEY_ID', 'S3RVER_SECRET_ACCESS_KEY']) {
  if (!env[name]) {
    console.error(`run.js: ${name} is not set`);
    process.exit(2);
  }
}
S3Object.ALLOWED_METADATA.push('x-amz-server-side-encryption');
AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
AWSAccount.DUMMY_ACCOUNT.createKeyPair(env.S3RVER_ACCESS_KEY_ID, env.S3RVER_SECRET_ACCESS_KEY);

new S3rver({
  directory: env.S3RVER_DIR,
  address: '127.0.0.1',
  port: Number(env.S3RVER_PORT),
  silent: false,
  configureBuckets: [{ name: env.S3RVER_BUCKET, configs: [] }],
})
  .run()
  .then(({ address, port }) => console.log(`s3rver listening on ${address}:${port}`))
  .catch((err) => {
    console.error(`s3rver failed to start: ${err.message}`);
    process.exit(1);
  });
