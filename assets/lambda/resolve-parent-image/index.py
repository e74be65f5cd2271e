"""CloudFormation custom resource: the newest AMI that matches a name pattern and owners.

Used by the X-Spot worker image pipeline when workerImage.parentImage is a { name, owners }
filter. It runs at deploy time (never at synth), when the resource is created and whenever the
filter changes, and returns the AMI id; the stack stores it in an SSM parameter that the image
recipe names as `ssm:<parameter>`, so the recipe itself never changes when the AMI does.

Resource properties:
  Name          EC2 image name filter; * and ? are wildcards.
  Owners        list of account ids or "amazon", "aws-marketplace", "self".
  Architecture  image architecture (default x86_64).

Returned attributes (and the physical id): ImageId; also ImageName, CreationDate, Deprecated.
Delete does nothing: nothing is created.

Only the Python standard library and boto3 (part of the Lambda runtime) are used.
"""

import datetime
import json
import urllib.request


def newest(images):
    """The image with the latest CreationDate (ISO 8601, so string order is time order);
    ties go to the larger ImageId so the choice is stable."""
    if not images:
        return None
    return max(images, key=lambda i: (i.get("CreationDate", ""), i.get("ImageId", "")))


def iso_seconds(t):
    """YYYY-MM-DDTHH:MM:SS, the precision both implementations of the rule compare."""
    return t[:19]


def is_deprecated(image, now):
    """True when DeprecationTime has passed at `now` (a future one is not yet deprecated)."""
    t = image.get("DeprecationTime") or ""
    return t != "" and iso_seconds(t) <= iso_seconds(now)


def choose(images, architecture, now):
    """The rule shared with check-config --live (lib/ops/parent-image-rule.ts): among available
    machine images of the architecture, the newest that is not deprecated; only when every match
    is deprecated, the newest deprecated one (publishers deprecate images of end-of-life releases
    such as CentOS 7). Returns (image or None, deprecated)."""
    usable = [
        i
        for i in images
        if i.get("State", "available") == "available"
        and i.get("ImageType", "machine") == "machine"
        and i.get("Architecture", architecture) == architecture
    ]
    current = [i for i in usable if not is_deprecated(i, now)]
    image = newest(current or usable)
    return image, (image is not None and not current)


def find_images(ec2, name, owners):
    """Every image of `owners` whose name matches, deprecated ones included (the query the live
    check sends too); the choice is made by `choose`."""
    images = []
    token = None
    while True:
        kwargs = {"Owners": owners, "Filters": [{"Name": "name", "Values": [name]}], "IncludeDeprecated": True}
        if token:
            kwargs["NextToken"] = token
        page = ec2.describe_images(**kwargs)
        images.extend(page.get("Images", []))
        token = page.get("NextToken")
        if not token:
            return images


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def resolve(ec2, name, owners, architecture="x86_64", now=None):
    """The AMI the rule chooses; LookupError when nothing usable matches."""
    image, deprecated = choose(find_images(ec2, name, owners), architecture, now or utc_now())
    if image is None:
        raise LookupError(
            "no available %s AMI named %r owned by %s (workerImage.parentImage)"
            % (architecture, name, ", ".join(owners))
        )
    return {
        "ImageId": image["ImageId"],
        "ImageName": image.get("Name", ""),
        "CreationDate": image.get("CreationDate", ""),
        "Deprecated": "true" if deprecated else "false",
    }


def send(event, status, physical_id, data=None, reason=None):
    """PUTs the result to the pre-signed URL CloudFormation gave us."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": (reason or "see the function's log")[:3000],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data or {},
        }
    ).encode("utf-8")
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (CloudFormation's https URL)
        response.read()


def handler(event, context, ec2=None, respond=send):
    request_type = event.get("RequestType")
    physical_id = event.get("PhysicalResourceId") or "unresolved"
    try:
        if request_type == "Delete":
            respond(event, "SUCCESS", physical_id)
            return
        props = event.get("ResourceProperties", {})
        if ec2 is None:
            import boto3  # the Lambda runtime provides it

            ec2 = boto3.client("ec2")
        result = resolve(ec2, props["Name"], list(props["Owners"]), props.get("Architecture", "x86_64"))
        print(json.dumps({"resolved": result, "name": props["Name"], "owners": props["Owners"]}))
        respond(event, "SUCCESS", result["ImageId"], data=result)
    except Exception as err:  # report every failure to CloudFormation instead of timing out
        print(json.dumps({"error": str(err), "type": type(err).__name__}))
        respond(event, "FAILED", physical_id, reason="%s: %s" % (type(err).__name__, err))
