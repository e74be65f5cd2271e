/**
 * cdk-nag (AwsSolutions) over every stack of the app, for the default config: zero unacknowledged
 * findings. Acknowledgements sit on the owning constructs. The examples under config/examples/ (an
 * existing VPC with NFS storage, Grid Engine, three AZs) are gated the same way in examples.test.ts.
 */
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp, DEFAULT_YAML } from '../support/app';

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

test.each([['default config', DEFAULT_YAML]])('AwsSolutions: no unacknowledged findings (%s)', (_name, config) => {
  expect(nagFindings(config)).toEqual([]);
});
