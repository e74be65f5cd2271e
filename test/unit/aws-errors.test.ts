import { classifyAwsError, describeAwsError } from '../../lib/ops/aws-errors';

describe('describeAwsError', () => {
  test.each([
    [{ name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' }, 'credentials'],
    [{ name: 'AccessDeniedException', message: 'User is not authorized' }, 'access-denied'],
    [{ name: 'UnauthorizedOperation', message: 'You are not authorized' }, 'access-denied'],
    [{ name: 'ThrottlingException', message: 'Rate exceeded' }, 'throttled'],
    [{ name: 'ExpiredToken', message: 'expired' }, 'expired'],
    [{ name: 'ResourceNotFoundException', message: 'nope' }, 'not-found'],
    [{ name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:5000' }, 'network'],
    [{ name: 'ValidationException', message: 'bad' }, 'other'],
  ])('classifies %o as %s', (err, kind) => {
    expect(classifyAwsError(err)).toBe(kind);
  });

  test('access denied names the permission and the region on one line', () => {
    const line = describeAwsError(
      { name: 'AccessDeniedException', message: 'User: arn:x is not authorized\nmore' },
      {
        action: 'starting the image pipeline',
        permission: 'imagebuilder:StartImagePipelineExecution',
        region: 'us-east-1',
      },
    );
    expect(line).toBe(
      'starting the image pipeline in us-east-1: access denied; the caller needs imagebuilder:StartImagePipelineExecution (User: arn:x is not authorized)',
    );
    expect(line).not.toContain('\n');
  });

  test('missing credentials says how to provide them', () => {
    expect(describeAwsError({ name: 'CredentialsProviderError', message: 'x' }, { action: 'listing images' })).toMatch(
      /^listing images: no AWS credentials found .*--profile/,
    );
  });
});
