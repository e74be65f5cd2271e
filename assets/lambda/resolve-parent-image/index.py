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

import json
import urllib.request


def newest(images):
    """The image with the latest CreationDate (ISO 8601, so string order is time order);
    ties go to the larger ImageId so the choice is stable."""
    if not images:
        return None
    return max(images, key=lambda i: (i.get("CreationDate", ""), i.get("ImageId", "")))


def find_images(ec2, name, owners, architecture, include_deprecated):
    filters = [
        {"Name": "name", "Values": [name]},
        {"Name": "state", "Values": ["available"]},
        {"Name": "architecture", "Values": [architecture]},
        {"Name": "image-type", "Values": ["machine"]},
    ]
    images = []
    token = None
    while True:
        kwargs = {"Owners": owners, "Filters": filters, "IncludeDeprecated": include_deprecated}
        if token:
            kwargs["NextToken"] = token
        page = ec2.describe_images(**kwargs)
        images.extend(page.get("Images", []))
        token = page.get("NextToken")
        if not token:
            return images


def resolve(ec2, name, owners, architecture="x86_64"):
    """The newest matching AMI; deprecated images only when no current one matches
    (publishers deprecate images of end-of-life releases such as CentOS 7)."""
    image = newest(find_images(ec2, name, owners, architecture, False))
    if image is None:
        image = newest(find_images(ec2, name, owners, architecture, True))
    if image is None:
        raise LookupError(
            "no available %s AMI named %r owned by %s (workerImage.parentImage)"
            % (architecture, name, ", ".join(owners))
        )
    return {
        "ImageId": image["ImageId"],
        "ImageName": image.get("Name", ""),
        "CreationDate": image.get("CreationDate", ""),
        "Deprecated": "true" if image.get("DeprecationTime") else "false",
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
