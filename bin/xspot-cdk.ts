#!/usr/bin/env node
/**
 * The CDK app: load and validate the config (`-c config=PATH`, else $XSPOT_CONFIG, else the
 * embedded default), then build the stacks. Invalid config stops synth with the same messages
 * as `xspot-cdk check-config`, before any construct is created.
 */
import '../lib/synth-startup';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { formatFinding } from '../lib/config/findings';
import { ConfigErrors, type LoadedConfig, loadConfig, packageRoot } from '../lib/config/load';
import { reportError } from '../lib/errors';
import { buildXspotApp } from '../lib/stacks/app';

// cdk.json's feature flags also apply when the app runs without the CDK CLI (node dist/bin/xspot-cdk.js);
// context from the CLI or cdk.json still takes precedence.
const flags = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'cdk.json'), 'utf8')).context;
const app = new App({ context: flags });
let loaded: LoadedConfig;
try {
  loaded = loadConfig(app.node.tryGetContext('config'));
} catch (err) {
  if (err instanceof ConfigErrors) {
    for (const f of err.check.findings) process.stderr.write(`${formatFinding(f)}\n`);
  }
  process.exit(reportError(err));
}
for (const f of loaded.findings) {
  if (f.severity === 'warning' && !f.acknowledged) process.stderr.write(`${formatFinding(f)}\n`);
}
buildXspotApp(app, loaded);
app.synth();
