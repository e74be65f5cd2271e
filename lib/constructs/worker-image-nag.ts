/**
 * Acknowledges cdk-nag findings on the construct that owns them. cdk-nag 3 matches the exact
 * finding id (`AwsSolutions-IAM5[Resource::...]`) against the acknowledgements recorded on the
 * resource and its parents.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges `rule` (or, with `findings`, only those findings of it) on `construct`. */
export function acknowledgeFinding(
  construct: IConstruct,
  rule: string,
  reason: string,
  findings?: readonly string[],
): void {
  const ids = findings && findings.length > 0 ? findings.map((f) => `${rule}[${f}]`) : [rule];
  for (const id of ids) Validations.of(construct).acknowledge({ id, reason });
}

/** A CloudFormation value flattened the way cdk-nag spells it in finding ids. */
export function flattenForNag(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(flattenForNag).join(sep);
    }
    if ('Fn::Sub' in o) return flattenForNag(o['Fn::Sub']);
    if (Array.isArray(o['Fn::GetAtt'])) {
      const [res, attr] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenForNag(res)}.${flattenForNag(attr)}>`;
    }
    if ('Fn::ImportValue' in o) return flattenForNag(o['Fn::ImportValue']);
    if ('Ref' in o) return `<${flattenForNag(o.Ref)}>`;
  }
  return JSON.stringify(value);
}

/**
 * Acknowledges the `Resource::<arn>` finding of `rule` for a resource ARN that is only known in
 * its final form after synthesis prepares the app (a reference to another stack becomes an
 * export name then). The acknowledgement is recorded during synth validation, before cdk-nag
 * runs, and covers exactly that one resource.
 */
export function acknowledgeResourceFinding(
  construct: IConstruct,
  rule: string,
  reason: string,
  resourceArn: string,
): void {
  construct.node.addValidation({
    validate: () => {
      const id = flattenForNag(Stack.of(construct).resolve(resourceArn));
      acknowledgeFinding(construct, rule, reason, [`Resource::${id}`]);
      return [];
    },
  });
}
