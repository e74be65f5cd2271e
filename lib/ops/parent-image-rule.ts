/**
 * The one rule that turns a `{ name, owners }` parent-image filter into an AMI. Two places apply
 * it: `check-config --live` (here, TypeScript) and the deploy-time custom resource
 * (assets/lambda/resolve-parent-image/index.py, `choose`, Python in the Lambda runtime). Both ask
 * DescribeImages the same question (PARENT_IMAGE_QUERY: owners, the name pattern, deprecated
 * images included) and choose from the answer the same way; a shared table of image lists
 * (test/live-check/parent-image-rule.test.ts) runs through both and must give the same answers.
 *
 * The rule: among available machine images of the architecture, the newest by CreationDate (ties:
 * the larger ImageId) that is not deprecated; only when every match is deprecated, the newest
 * deprecated one (publishers deprecate the images of end-of-life releases such as CentOS 7, and a
 * site that names such a release still gets it, with a warning).
 */
import type { Image } from '@aws-sdk/client-ec2';

/** The DescribeImages parameters both implementations send (plus Owners). */
export function parentImageQuery(name: string): {
  Filters: { Name: string; Values: string[] }[];
  IncludeDeprecated: true;
} {
  return { Filters: [{ Name: 'name', Values: [name] }], IncludeDeprecated: true };
}

/** The subset of an EC2 image the rule reads. */
export type RuleImage = Pick<
  Image,
  'ImageId' | 'Name' | 'CreationDate' | 'DeprecationTime' | 'State' | 'ImageType' | 'Architecture'
>;

/** Seconds-precision ISO time (YYYY-MM-DDTHH:MM:SS), the form both implementations compare. */
const isoSeconds = (t: string) => t.slice(0, 19);

/** True when the image's DeprecationTime has passed at `now` (a future DeprecationTime is not yet deprecated). */
export function isDeprecated(image: RuleImage, now: Date): boolean {
  const t = image.DeprecationTime;
  return typeof t === 'string' && t !== '' && isoSeconds(t) <= isoSeconds(now.toISOString());
}

/** The newest image by CreationDate, ties going to the larger ImageId so the choice is stable. */
export function newestImage<T extends RuleImage>(images: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const i of images) {
    if (
      !best ||
      String(i.CreationDate ?? '') > String(best.CreationDate ?? '') ||
      (String(i.CreationDate ?? '') === String(best.CreationDate ?? '') &&
        String(i.ImageId ?? '') > String(best.ImageId ?? ''))
    ) {
      best = i;
    }
  }
  return best;
}

export interface ParentImageChoice<T extends RuleImage> {
  /** The image the deploy will use, or undefined when nothing usable matches. */
  readonly image?: T;
  /** True when the chosen image is deprecated (no current image matched). */
  readonly deprecated: boolean;
  /** Matches by name that were of another architecture (for the message when nothing is usable). */
  readonly otherArchitectures: readonly string[];
}

/** Applies the rule to a DescribeImages answer. A field AWS left out counts as the usable value. */
export function chooseParentImage<T extends RuleImage>(
  images: readonly T[],
  architecture: string,
  now: Date,
): ParentImageChoice<T> {
  const usable = images.filter(
    (i) =>
      (i.State ?? 'available') === 'available' &&
      (i.ImageType ?? 'machine') === 'machine' &&
      (i.Architecture ?? architecture) === architecture,
  );
  const current = usable.filter((i) => !isDeprecated(i, now));
  const image = newestImage(current.length > 0 ? current : usable);
  const otherArchitectures = [
    ...new Set(
      images
        .map((i) => i.Architecture)
        .filter((a): a is NonNullable<typeof a> => a !== undefined && a !== architecture)
        .map(String),
    ),
  ].sort();
  return { ...(image ? { image } : {}), deprecated: image !== undefined && current.length === 0, otherArchitectures };
}
