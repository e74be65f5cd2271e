/**
 * cdk-nag (AwsSolutions) over every stack of the app, for the default config and for an existing-VPC,
 * existing-NFS variant: zero unacknowledged findings. Acknowledgements sit on the owning constructs.
 */
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp, DEFAULT_YAML } from '../support/app';
import { EXISTING_VPC_CONFIG } from '../support/configs';

function nagFindings(text: string | object): string[] {
  const { app } = buildApp(text);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
    return [];
  } catch (e) {
    const lines = String(e).split('\n');
    const out: string[] = [];
    lines.forEach((l, i) => {
      if (/^\s*(ERROR|WARNING)\b/.test(l)) out.push(`${l.trim()} @ ${(lines[i + 1] ?? '').trim()}`);
    });
    return out.length > 0 ? out : [String(e)];
  }
}

test.each([
  ['default config', DEFAULT_YAML],
  ['existing VPC + NFS storage', EXISTING_VPC_CONFIG],
])('AwsSolutions: no unacknowledged findings (%s)', (_name, config) => {
  expect(nagFindings(config)).toEqual([]);
});
