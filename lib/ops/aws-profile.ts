/**
 * Where the AWS SDK looks for a named profile, and whether it is there: so that a missing profile is
 * reported by name and place, not as "no credentials". Reads the shared config and credentials files
 * the way the SDK does (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and
 * ~/.aws/credentials; `[profile NAME]` or `[default]` in config, `[NAME]` in credentials). No CDK imports.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface ProfileLookup {
  /** The profile that was asked for. */
  readonly profile: string;
  /** Where it came from: the --profile flag or the AWS_PROFILE variable. */
  readonly source: '--profile' | 'AWS_PROFILE';
  /** The files searched, in order, with whether each exists. */
  readonly files: readonly { readonly path: string; readonly exists: boolean }[];
  /** Whether any of them has the profile. */
  readonly found: boolean;
  /** The profiles the files do define. */
  readonly available: readonly string[];
}

function sharedFiles(env: NodeJS.ProcessEnv): { config: string; credentials: string } {
  const home = env.HOME || os.homedir();
  return {
    config: env.AWS_CONFIG_FILE || path.join(home, '.aws', 'config'),
    credentials: env.AWS_SHARED_CREDENTIALS_FILE || path.join(home, '.aws', 'credentials'),
  };
}

/** The profile names a shared file defines (`config` files prefix all but default with "profile "). */
export function profilesIn(text: string, kind: 'config' | 'credentials'): string[] {
  const names: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*\[\s*([^\]]+?)\s*\]\s*$/.exec(line);
    if (!m) continue;
    const section = m[1];
    if (kind === 'credentials') names.push(section);
    else if (section === 'default') names.push(section);
    else if (/^profile\s+/.test(section)) names.push(section.replace(/^profile\s+/, ''));
  }
  return names;
}

/** Looks up `flag ?? AWS_PROFILE`; undefined when neither names a profile. */
export function lookupProfile(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ProfileLookup | undefined {
  const profile = flag ?? env.AWS_PROFILE;
  if (!profile) return undefined;
  const where = sharedFiles(env);
  const available = new Set<string>();
  const files: { path: string; exists: boolean }[] = [];
  for (const kind of ['config', 'credentials'] as const) {
    const file = where[kind];
    let text: string | undefined;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      text = undefined;
    }
    files.push({ path: file, exists: text !== undefined });
    for (const name of profilesIn(text ?? '', kind)) available.add(name);
  }
  return {
    profile,
    source: flag !== undefined ? '--profile' : 'AWS_PROFILE',
    files,
    found: available.has(profile),
    available: [...available].sort(),
  };
}

/** One line: which profile was not found and where it was looked up; undefined when it was found. */
export function missingProfileMessage(lookup: ProfileLookup | undefined): string | undefined {
  if (!lookup || lookup.found) return undefined;
  const files = lookup.files.map((f) => `${f.path}${f.exists ? '' : ' (missing)'}`).join(' and ');
  const known = lookup.available.length > 0 ? `; profiles there: ${lookup.available.join(', ')}` : '';
  return `AWS profile '${lookup.profile}' (from ${lookup.source}) was not found in ${files}${known}`;
}
