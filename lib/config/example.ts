/**
 * The project's example config (config/default.yaml) acknowledges warnings that are true of the
 * example only: it has no worker image yet and a placeholder controller image. Its `example:` field
 * names the file it is; a copy of it elsewhere (`cp config/default.yaml site.yaml`) is not that file,
 * so the example's acknowledgements do not apply to the copy and its placeholders show.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Finding } from './findings';

/** Warnings that only the example itself may acknowledge: a site must fix them. */
export const EXAMPLE_ONLY_ACKNOWLEDGEMENTS: ReadonlySet<string> = new Set(['controller-ami-placeholder']);

/**
 * Whether `file` is the example its `example:` field names: that path inside an xspot-cdk source
 * tree (a checkout, an installed package, or a `git archive` of one).
 */
export function isTheExample(file: string, example: string): boolean {
  const abs = path.resolve(file);
  const rel = path.normalize(example);
  if (!abs.endsWith(`${path.sep}${rel}`)) return false;
  const root = abs.slice(0, abs.length - rel.length - 1);
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).name === 'xspot-cdk';
  } catch {
    return false;
  }
}

/**
 * The acknowledgements that apply to `file`, and the findings about the ones that do not: all of a
 * copied example's (one warning saying so), and an example-only one in a site's own file (an error).
 */
export function exampleAcknowledgements(
  file: string,
  example: string | undefined,
  acks: readonly { id: string; reason: string }[],
): { apply: { id: string; reason: string }[]; findings: Finding[] } {
  if (example !== undefined) {
    if (isTheExample(file, example)) return { apply: [...acks], findings: [] };
    return {
      apply: [],
      findings: [
        {
          id: 'example-copy',
          severity: 'warning',
          path: 'example',
          value: example,
          message: `this file is a copy of the project's example, not ${example} itself: the example's ${acks.length} acknowledgement${acks.length === 1 ? '' : 's'} do not apply here, so its placeholders show`,
          allowed:
            'remove `example:` and acknowledge, with your own reason, only what is true of your site; or start a site with `npx xspot-cdk init`',
        },
      ],
    };
  }
  const findings: Finding[] = [];
  acks.forEach((a, i) => {
    if (!EXAMPLE_ONLY_ACKNOWLEDGEMENTS.has(a.id)) return;
    findings.push({
      id: 'example-only-acknowledgement',
      severity: 'error',
      path: `acknowledgedWarnings[${i}].id`,
      value: a.id,
      message: "only the project's example may acknowledge this warning: a site must not deploy the placeholder",
      allowed: 'set controllers.amiId to your validated controller image and remove this acknowledgement',
    });
  });
  return { apply: acks.filter((a) => !EXAMPLE_ONLY_ACKNOWLEDGEMENTS.has(a.id)), findings };
}
