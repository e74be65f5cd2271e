import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeNag } from './nag';

export interface LogBucketProps {
  /** Move log objects to Infrequent Access after this long. */
  readonly transitionToInfrequentAccessAfter: Duration;
  /** Delete log objects after this long (noncurrent versions after 30 days). */
  readonly expireAfter: Duration;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Where controller logs (and Image Builder build logs) go: encrypted, TLS-only, public access
 * blocked, versioned, with lifecycle rules and server access logging to a second bucket.
 */
export class LogBucket extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LogBucketProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy,
      lifecycleRules: [{ expiration: props.expireAfter, noncurrentVersionExpiration: Duration.days(30) }],
    });
    acknowledgeNag(
      this.accessLogsBucket,
      'AwsSolutions-S1',
      'this bucket receives the server access logs of the log bucket; logging it again would recurse',
    );
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'log-bucket/',
      lifecycleRules: [
        {
          id: 'tier-and-expire',
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: props.transitionToInfrequentAccessAfter,
            },
          ],
          expiration: props.expireAfter,
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
  }
}
