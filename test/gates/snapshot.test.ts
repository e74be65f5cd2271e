/**
 * Snapshot per stack: a diff gate beside the fine-grained tests. Asset hashes are normalised, so a
 * script change does not churn unrelated snapshots. Update deliberately with `npx jest -u`; CI runs
 * jest with --ci, which never writes snapshots.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../support/app';

const normalise = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value)
      .replace(/[0-9a-f]{64}/g, '<asset-hash>')
      .replace(/\b[0-9a-f]{12}-[0-9a-f]{12}\b/g, '<runtime-version>'),
  );

const { stacks } = buildApp();

test.each(Object.entries(stacks))('%s stack matches its snapshot', (_name, stack) => {
  expect(normalise(Template.fromStack(stack).toJSON())).toMatchSnapshot();
});
