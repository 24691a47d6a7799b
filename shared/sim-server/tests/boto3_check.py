"""boto3 against `ripcord sim serve`: every served DRS and SSM operation.

Usage: python boto3_check.py http://127.0.0.1:PORT

The server must run the scenario of aws/tests/sim_server.rs (`FAST`):
servers s-1234567890abcdef0..8, server 3 fails to launch, server 8 never
finishes, commands with
"echo" print "hello from the drill". botocore parses each response with its
model; this script then checks every parsed response against the
operation's output shape (types, enums, required members, lengths, and the
patterns Python's `re` can read), since botocore's parser itself is lenient.
Exits non-zero on the first mismatch.
"""

import datetime
import re
import sys
import time

import boto3
import botocore.exceptions

URL = sys.argv[1]
CLIENT_ARGS = dict(
    endpoint_url=URL,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
    config=botocore.config.Config(retries={"max_attempts": 1}),
)
drs = boto3.client("drs", **CLIENT_ARGS)
ssm = boto3.client("ssm", **CLIENT_ARGS)


def server(n):
    return "s-1234567890abcdef%x" % n


# Members whose model pattern SSM itself does not follow: ExecutionElapsedTime
# is a duration ("PT0.14S") in a shape whose pattern is an ISO date.
PATTERN_EXCEPTIONS = {"ssm.GetCommandInvocation.ExecutionElapsedTime"}


def check_shape(value, shape, path):
    """Raises AssertionError where `value` does not fit `shape`."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), f"{path}: expected an object, got {value!r}"
        for name in shape.required_members:
            assert name in value, f"{path}: required member {name} missing"
        for name, member in value.items():
            assert name in shape.members, f"{path}: unknown member {name}"
            check_shape(member, shape.members[name], f"{path}.{name}")
    elif kind == "list":
        assert isinstance(value, list), f"{path}: expected a list, got {value!r}"
        check_length(len(value), shape, path)
        for i, item in enumerate(value):
            check_shape(item, shape.member, f"{path}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), f"{path}: expected a map, got {value!r}"
        for k, v in value.items():
            check_shape(k, shape.key, f"{path} key")
            check_shape(v, shape.value, f"{path}[{k}]")
    elif kind == "string":
        assert isinstance(value, str), f"{path}: expected a string, got {value!r}"
        enum = shape.enum
        assert not enum or value in enum, f"{path}: {value!r} is not one of {enum}"
        check_length(len(value), shape, path)
        pattern = shape.metadata.get("pattern")
        if pattern and value and path not in PATTERN_EXCEPTIONS:
            try:
                compiled = re.compile(pattern)
            except re.error:
                compiled = None  # a Java-only construct such as \p{L}
            if compiled is not None:
                assert compiled.search(value), f"{path}: {value!r} does not match {pattern}"
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: expected an integer, got {value!r}"
        check_length(value, shape, path)
    elif kind == "boolean":
        assert isinstance(value, bool), f"{path}: expected a boolean, got {value!r}"
    elif kind == "timestamp":
        assert isinstance(value, datetime.datetime), f"{path}: expected a timestamp, got {value!r}"
    else:
        raise AssertionError(f"{path}: unexpected shape type {kind}")


def check_length(n, shape, path):
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    assert low is None or n >= low, f"{path}: {n} is below the minimum {low}"
    assert high is None or n <= high, f"{path}: {n} is above the maximum {high}"


SEEN = set()


def call(client, operation, **params):
    """Calls `operation` and checks the parsed response against its model."""
    method = getattr(client, operation)
    response = method(**params)
    name = client.meta.method_to_api_mapping[operation]
    shape = client.meta.service_model.operation_model(name).output_shape
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    check_shape(body, shape, f"{client.meta.service_model.service_name}.{name}")
    SEEN.add(f"{client.meta.service_model.service_name}.{name}")
    return response


def expect_error(code, client, operation, **params):
    try:
        getattr(client, operation)(**params)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{operation}: expected {code}, got {got}: {e}"
        return e
    raise AssertionError(f"{operation} should have failed with {code}")


def eventually(what, probe, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def completed(job_id):
    def probe():
        jobs = call(drs, "describe_jobs", filters={"jobIDs": [job_id]})["items"]
        return jobs[0] if jobs and jobs[0]["status"] == "COMPLETED" else None

    return eventually(f"job {job_id} to complete", probe)


# DRS: a drill of four servers, one of which fails.
job = call(
    drs,
    "start_recovery",
    sourceServers=[{"sourceServerID": server(n)} for n in range(4)],
    isDrill=True,
    tags={"ripcord:execution-id": "exec-1", "ripcord:wave": "1"},
)["job"]
assert job["type"] == "LAUNCH" and job["initiatedBy"] == "START_DRILL", job
assert job["tags"]["ripcord:wave"] == "1"
recoveries = [
    call(drs, "start_recovery", sourceServers=[{"sourceServerID": server(n)}], isDrill=False)["job"]
    for n in range(4, 7)
]
assert all(r["initiatedBy"] == "START_RECOVERY" for r in recoveries), recoveries
done = completed(job["jobID"])
statuses = [s["launchStatus"] for s in done["participatingServers"]]
assert statuses == ["LAUNCHED", "LAUNCHED", "LAUNCHED", "FAILED"], statuses
for r in recoveries:
    completed(r["jobID"])

pages = list(drs.get_paginator("describe_jobs").paginate(PaginationConfig={"PageSize": 2}))
assert [len(p["items"]) for p in pages] == [2, 2], [len(p["items"]) for p in pages]
first = call(drs, "describe_jobs", maxResults=3)
assert len(first["items"]) == 3 and "nextToken" in first
rest = call(drs, "describe_jobs", maxResults=3, nextToken=first["nextToken"])
assert len(rest["items"]) == 1 and "nextToken" not in rest
assert call(drs, "describe_jobs", filters={"fromDate": "2999-01-01T00:00:00Z"})["items"] == []

log = call(drs, "describe_job_log_items", jobID=job["jobID"])["items"]
failure = [i for i in log if i["event"] == "LAUNCH_FAILED"]
assert failure and failure[0]["eventData"]["sourceServerID"] == server(3), log
assert "no capacity" in failure[0]["eventData"]["rawError"]

instances = call(drs, "describe_recovery_instances", filters={"sourceServerIDs": [server(0), server(1)]})["items"]
assert len(instances) == 2 and all(i["isDrill"] for i in instances), instances
ec2_ids = [i["ec2InstanceID"] for i in instances]
pages = list(drs.get_paginator("describe_recovery_instances").paginate(PaginationConfig={"PageSize": 2}))
everything = [i for p in pages for i in p["items"]]
assert [len(p["items"]) for p in pages] == [2, 2, 2], everything
assert sorted(i["isDrill"] for i in everything) == [False] * 3 + [True] * 3

sources = call(drs, "describe_source_servers", filters={"sourceServerIDs": [server(2), server(3), server(7)]})["items"]
results = {s["sourceServerID"]: s["lastLaunchResult"] for s in sources}
assert results == {server(2): "SUCCEEDED", server(3): "FAILED", server(7): "NOT_STARTED"}, results
db = [s for s in sources if s["sourceServerID"] == server(2)][0]
assert db["sourceProperties"]["identificationHints"]["hostname"] == "db-1"
assert db["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
all_sources = [s for p in drs.get_paginator("describe_source_servers").paginate(PaginationConfig={"PageSize": 3}) for s in p["items"]]
assert len(all_sources) == 9, len(all_sources)
tagged = [s for s in all_sources if s["sourceServerID"] == server(4)][0]
assert tagged["tags"] == {"app": "billing"} and tagged["dataReplicationInfo"]["lagDuration"] == "PT5M30S", tagged

# Point-in-time snapshots, newest first when asked, paged.
snapshots = call(drs, "describe_recovery_snapshots", sourceServerID=server(7), order="DESC", maxResults=2)
assert len(snapshots["items"]) == 2 and "nextToken" in snapshots, snapshots
assert snapshots["items"][0]["timestamp"] > snapshots["items"][1]["timestamp"], snapshots
more = call(drs, "describe_recovery_snapshots", sourceServerID=server(7), order="DESC", maxResults=2, nextToken=snapshots["nextToken"])
assert more["items"][0]["timestamp"] < snapshots["items"][1]["timestamp"], more

# SSM on the two launched instances.
def agents_online():
    info = call(ssm, "describe_instance_information", Filters=[{"Key": "InstanceIds", "Values": ec2_ids}])
    online = [i for i in info["InstanceInformationList"] if i["PingStatus"] == "Online"]
    return online if len(online) == 2 else None


eventually("agents online", agents_online)
eventually("all six agents online", lambda: len(call(ssm, "describe_instance_information", MaxResults=50)["InstanceInformationList"]) == 6)
legacy = call(ssm, "describe_instance_information", InstanceInformationFilterList=[{"key": "PingStatus", "valueSet": ["Online"]}], MaxResults=5)
assert len(legacy["InstanceInformationList"]) == 5 and "NextToken" in legacy, legacy
rest = call(ssm, "describe_instance_information", InstanceInformationFilterList=[{"key": "PingStatus", "valueSet": ["Online"]}], MaxResults=5, NextToken=legacy["NextToken"])
assert len(rest["InstanceInformationList"]) == 1 and "NextToken" not in rest, rest
since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
command = call(
    ssm,
    "send_command",
    InstanceIds=ec2_ids,
    DocumentName="AWS-RunShellScript",
    Parameters={"commands": ["echo hello"]},
    Comment="exec-1/w1/a1/1",
    TimeoutSeconds=600,
)["Command"]
command_id = command["CommandId"]


def all_succeeded():
    invocations = call(ssm, "list_command_invocations", CommandId=command_id, Details=True)["CommandInvocations"]
    return invocations if invocations and all(i["Status"] == "Success" for i in invocations) else None


invocations = eventually("the command to succeed", all_succeeded)
assert [i["CommandPlugins"][0]["Output"] for i in invocations] == ["hello from the drill"] * 2
assert invocations[0]["CommandPlugins"][0]["ResponseCode"] == 0
paged = call(ssm, "list_command_invocations", CommandId=command_id, MaxResults=1)
assert len(paged["CommandInvocations"]) == 1 and "NextToken" in paged
one = call(ssm, "get_command_invocation", CommandId=command_id, InstanceId=ec2_ids[0])
assert one["StandardOutputContent"] == "hello from the drill" and one["Status"] == "Success", one
listed = call(ssm, "list_commands", Filters=[{"key": "InvokedAfter", "value": since.strftime("%Y-%m-%dT%H:%M:%SZ")}])["Commands"]
assert [c["CommandId"] for c in listed if c["Comment"] == "exec-1/w1/a1/1"] == [command_id], listed
assert listed[0]["Status"] == "Success" and listed[0]["CompletedCount"] == 2

# Errors, parsed into the SDK's exceptions.
expect_error("ValidationException", drs, "start_recovery", sourceServers=[{"sourceServerID": "s-ZZZZZZZZZ_ZZZZZZZ"}])
expect_error("ResourceNotFoundException", drs, "start_recovery", sourceServers=[{"sourceServerID": "s-99999999999999999"}])
expect_error("InvalidInstanceId", ssm, "send_command", InstanceIds=["i-0000000000000000a"], DocumentName="AWS-RunShellScript")
expect_error("InvocationDoesNotExist", ssm, "get_command_invocation", CommandId=command_id, InstanceId="i-0000000000000000a")
try:
    drs.start_recovery(sourceServers=[{"sourceServerID": "s-ZZZZZZZZZ_ZZZZZZZ"}])
    raise AssertionError("a malformed id was accepted")
except drs.exceptions.ValidationException:
    pass  # modeled errors become the client's exception classes

# Clean-up: terminate the drill's instances.
to_end = [i["recoveryInstanceID"] for i in everything]
termination = call(drs, "terminate_recovery_instances", recoveryInstanceIDs=to_end)["job"]
assert termination["type"] == "TERMINATE"
completed(termination["jobID"])
assert call(drs, "describe_recovery_instances")["items"] == []

# Server 8 never finishes launching: its job stays active and holds it.
stuck = call(drs, "start_recovery", sourceServers=[{"sourceServerID": server(8)}], isDrill=True)["job"]
expect_error("ConflictException", drs, "start_recovery", sourceServers=[{"sourceServerID": server(8)}])
assert call(drs, "describe_jobs", filters={"jobIDs": [stuck["jobID"]]})["items"][0]["status"] != "COMPLETED"

served = {
    "drs.StartRecovery", "drs.DescribeJobs", "drs.DescribeJobLogItems", "drs.DescribeRecoveryInstances",
    "drs.DescribeSourceServers", "drs.DescribeRecoverySnapshots", "drs.TerminateRecoveryInstances", "ssm.SendCommand",
    "ssm.ListCommandInvocations", "ssm.GetCommandInvocation", "ssm.ListCommands",
    "ssm.DescribeInstanceInformation",
}
assert SEEN == served, served - SEEN
print("all DRS and SSM operations parsed and matched their output shapes")
