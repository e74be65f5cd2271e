/**
 * Turns an AWS SDK v3 error into one line an operator can act on. No CDK imports here.
 */
import { lookupProfile, missingProfileMessage } from './aws-profile';

export interface AwsErrorContext {
  /** What we were doing, e.g. "starting the image pipeline". */
  readonly action: string;
  /** The IAM action behind the call, e.g. "imagebuilder:StartImagePipelineExecution". */
  readonly permission?: string;
  readonly region?: string;
  /** The --profile the command was given (AWS_PROFILE is read when this is absent). */
  readonly profile?: string;
}

interface SdkLikeError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'ProviderError', 'TokenProviderError']);
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedException',
  'AuthFailure',
]);
const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
]);
const BAD_TOKEN = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
]);

export type AwsErrorKind =
  | 'credentials'
  | 'access-denied'
  | 'throttled'
  | 'expired'
  | 'not-found'
  | 'network'
  | 'other';

export function classifyAwsError(err: unknown): AwsErrorKind {
  const e = (err ?? {}) as SdkLikeError;
  const name = e.name ?? e.Code ?? e.code ?? '';
  if (CREDENTIAL_ERRORS.has(name) || /Could not load credentials|credential/i.test(`${name}`)) return 'credentials';
  if (ACCESS_DENIED.has(name)) return 'access-denied';
  if (THROTTLING.has(name)) return 'throttled';
  if (BAD_TOKEN.has(name)) return 'expired';
  if (/NotFound|NoSuch|DoesNotExist|ResourceNotFound|\.NotFound$/.test(name)) return 'not-found';
  if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN', 'TimeoutError'].includes(name)) return 'network';
  if (/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN/.test(e.message ?? '')) return 'network';
  return 'other';
}

/** One line, no stack: what failed, why, and what to do about it. */
export function describeAwsError(err: unknown, ctx: AwsErrorContext): string {
  const e = (err ?? {}) as SdkLikeError;
  const raw = (e.message ?? String(err)).split('\n')[0];
  const where = ctx.region ? ` in ${ctx.region}` : '';
  switch (classifyAwsError(err)) {
    case 'credentials': {
      // the SDK names the profile it could not resolve: "... using profile: [name] in ..."
      const named = /profile:? \[([^\]]+)\]/.exec(raw)?.[1];
      const missing = missingProfileMessage(lookupProfile(ctx.profile ?? named));
      if (missing) return `${ctx.action}: ${missing}`;
      return `${ctx.action}: no AWS credentials found (set AWS_PROFILE or pass --profile, or configure credentials with 'aws configure')`;
    }
    case 'expired':
      return `${ctx.action}: the AWS credentials are invalid or expired (${raw}); refresh them and try again`;
    case 'access-denied':
      return `${ctx.action}${where}: access denied${ctx.permission ? `; the caller needs ${ctx.permission}` : ''} (${raw})`;
    case 'throttled':
      return `${ctx.action}${where}: AWS is throttling requests even after retries; wait a minute and try again (${raw})`;
    case 'network':
      return `${ctx.action}${where}: could not reach the AWS endpoint (${raw}); check the network, proxy or --region`;
    case 'not-found':
      return `${ctx.action}${where}: ${raw}`;
    default:
      return `${ctx.action}${where}: ${e.name ? `${e.name}: ` : ''}${raw}`;
  }
}
