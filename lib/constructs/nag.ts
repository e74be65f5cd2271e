import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges a cdk-nag AwsSolutions finding on the construct that owns it, with a reason.
 * With `findings`, only those exact findings (e.g. `Resource::*`, `Action::s3:*`) are
 * acknowledged, never the rule as a whole.
 */
export function acknowledgeNag(
  construct: IConstruct,
  rule: string,
  reason: string,
  findings?: readonly string[],
): void {
  const v = Validations.of(construct);
  if (!findings || findings.length === 0) {
    v.acknowledge({ id: rule, reason });
    return;
  }
  for (const f of findings) v.acknowledge({ id: `${rule}[${f}]`, reason });
}

/**
 * How cdk-nag spells a (possibly tokenized) ARN in its finding ids: pseudo parameters become
 * `<AWS::AccountId>`-style placeholders, literals stay as they are.
 */
export function nagArn(scope: IConstruct, arn: string): string {
  const resolved: unknown = Stack.of(scope).resolve(arn);
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.Ref === 'string') return `<${o.Ref}>`;
      if (Array.isArray(o['Fn::Join'])) {
        const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
        return parts.map(render).join(sep);
      }
    }
    return JSON.stringify(v);
  };
  return render(resolved);
}
