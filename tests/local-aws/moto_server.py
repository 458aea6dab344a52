"""moto server, with DynamoDB transactions that cancel only themselves, and a count of the
requests it serves by caller, service and operation.

Transactions. moto 5 backs up each table a TransactWriteItems names and, when the transaction
is cancelled (a failed condition, which exactly-once counting meets on every replay), puts the
backup back. Every write other requests made to that table meanwhile is lost with its stream
records: the reports tests lost counts that way when they ran side by side. DynamoDB cancels
only the transaction. Here DynamoDB and DynamoDB Streams requests run one at a time, so a
restored backup holds everything but the cancelled transaction's own writes. moto runs its
Python under one lock anyway, so little concurrency is given up. The backup is a deep copy,
stream included, while the stream's readers (shard iterators) hold the live table's stream: a
cancelled transaction on a table with a stream (the register's, on the documents table) left
them reading a stream nothing was written to any more, so notify heard of nothing after it.
The restored table keeps the live stream, without the records the cancelled transaction wrote.

Request counts. `scripts/bench-requests` measures the AWS requests a document costs, and
everything in the local stack talks to this one server, so a WSGI middleware around moto's app
counts every request; GET /_intake/requests answers the counts as JSON and DELETE
/_intake/requests resets them (neither reaches moto; /moto-api/ is not counted).
- The caller is the access key id of the SigV4 credential (the Authorization header, or
  X-Amz-Credential of a presigned URL): moto accepts any key, and the local stack gives each
  function its short name as its key, the stand-ins for Lambda's event source mappings
  `eventsource` and the harness `harness`. A presigned POST (a browser's or a station's upload)
  carries its credential inside the multipart form, which is not read: it is the caller
  `uploader`.
- The service is the credential scope's (DynamoDB Streams by its X-Amz-Target); the operation
  is X-Amz-Target after its last '.', the `Action` of query protocols (SNS), or for S3 the REST
  operation read from the method, path, query and x-amz-copy-source. SQS and SNS operations on
  FIFO queues and topics are marked `(FIFO)`: they are priced apart.
- S3 sends its event notifications to SQS, and SNS its messages to the subscribed queues,
  inside moto, without an HTTP request. On AWS each is an SQS request the account pays, so
  they are counted as SendMessage by the callers `s3` and `sns`.
- DynamoDB bills request units, not requests, so each DynamoDB entry also adds up the units
  AWS would bill, from the sizes of the items before and after each request (moto keeps them;
  its ConsumedCapacity is a constant): a write 1 WRU per KB of the larger of the two
  (transactional: 2), plus the same for every global secondary index the item enters, leaves
  or changes in (a key change is a delete and a put); a read 1 RRU per 4 KB (half for an
  eventually consistent read, twice for a transactional one), a Query or Scan per 4 KB of the
  items it returns, at least one unit each. The item lookups run under the lock above, so what
  a request changed is what is measured. The operation names the tables; each entry also
  counts the distinct items its requests named, so repeated reads of one item show.

Usage: python3 moto_server.py -H 127.0.0.1 -p PORT (the arguments of python3 -m moto.server).
"""

import copy
import functools
import io
import json
import math
import re
import threading
from urllib.parse import parse_qs

import moto.server
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.sqs.models import SQSBackend

_ONE_AT_A_TIME = threading.RLock()


def _serialized(call_action):
    @functools.wraps(call_action)
    def call(self):
        with _ONE_AT_A_TIME:
            return call_action(self)

    return call


for handler in (DynamoHandler, DynamoDBStreamsHandler):
    handler.call_action = _serialized(handler.call_action)

_moto_transact_write_items = DynamoDBBackend.transact_write_items


def _transact_keeping_streams(self, transact_items):
    live = dict(self.tables)
    streamed = {
        name: len(table.stream_shard.items)
        for name, table in live.items()
        if getattr(table, "stream_shard", None) is not None
    }
    try:
        return _moto_transact_write_items(self, transact_items)
    except Exception:
        for name, length in streamed.items():
            table, restored = live[name], self.tables.get(name)
            if restored is not None and restored is not table:
                shard = table.stream_shard
                del shard.items[length:]
                shard.table = restored
                restored.stream_shard = shard
        raise


DynamoDBBackend.transact_write_items = _transact_keeping_streams


COUNTS_PATH = "/_intake/requests"
# Bodies read to find an operation or the items a DynamoDB request names (never S3's).
_MAX_READ = 4 * 1024 * 1024
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")

_counts = {}
_counts_lock = threading.Lock()
# The service and operation of the request this thread serves, for deliveries inside moto.
_serving = threading.local()


def _count(caller, service, operation, size=0, read_units=0.0, write_units=0.0, keys=()):
    with _counts_lock:
        entry = _counts.setdefault(
            (caller, service, operation),
            {"requests": 0, "read_units": 0.0, "write_units": 0.0, "max_request_bytes": 0,
             "keys": set()},
        )
        entry["requests"] += 1
        entry["read_units"] += read_units
        entry["write_units"] += write_units
        entry["max_request_bytes"] = max(entry["max_request_bytes"], size)
        entry["keys"].update(keys)


def _counts_json():
    with _counts_lock:
        rows = [
            {"caller": caller, "service": service, "operation": operation,
             "requests": entry["requests"], "read_units": entry["read_units"],
             "write_units": entry["write_units"],
             "max_request_bytes": entry["max_request_bytes"],
             "distinct_items": len(entry["keys"])}
            for (caller, service, operation), entry in sorted(_counts.items())
        ]
    return json.dumps({"requests": rows}).encode()


def _s3_operation(method, path, query, environ):
    """The S3 REST operation of a path-style request."""
    bucket, _, key = path.lstrip("/").partition("/")
    copying = "HTTP_X_AMZ_COPY_SOURCE" in environ
    if not bucket:
        return "ListBuckets"
    if key:
        sub = next(
            (s for s in ("partNumber", "uploadId", "uploads", "tagging", "attributes", "acl")
             if s in query),
            "",
        )
        known = {
            ("GET", ""): "GetObject",
            ("HEAD", ""): "HeadObject",
            ("PUT", ""): "CopyObject" if copying else "PutObject",
            ("DELETE", ""): "DeleteObject",
            ("PUT", "partNumber"): "UploadPartCopy" if copying else "UploadPart",
            ("POST", "uploads"): "CreateMultipartUpload",
            ("POST", "uploadId"): "CompleteMultipartUpload",
            ("DELETE", "uploadId"): "AbortMultipartUpload",
            ("GET", "uploadId"): "ListParts",
            ("GET", "tagging"): "GetObjectTagging",
            ("PUT", "tagging"): "PutObjectTagging",
            ("GET", "attributes"): "GetObjectAttributes",
        }
        return known.get((method, sub), f"{method.title()}Object{sub.title()}")
    if method == "POST" and environ.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        return "PostObject"
    sub = next(iter(query), "")
    known = {
        ("GET", ""): "ListObjects",
        ("GET", "list-type"): "ListObjectsV2",
        ("GET", "versions"): "ListObjectVersions",
        ("GET", "uploads"): "ListMultipartUploads",
        ("HEAD", ""): "HeadBucket",
        ("PUT", ""): "CreateBucket",
        ("DELETE", ""): "DeleteBucket",
        ("POST", "delete"): "DeleteObjects",
    }
    return known.get(
        (method, sub), f"{method.title()}Bucket{sub.title().replace('-', '')}"
    )


def _read_body(environ):
    """The request body, put back for moto to read."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return b""
    if not 0 < length <= _MAX_READ:
        return b""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _fifo(name):
    return " (FIFO)" if str(name).endswith(".fifo") else ""


def _classify(environ):
    """(caller, service, region, operation, body, JSON body) of a request."""
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if found:
        caller, region, service = found.groups()
    elif "X-Amz-Credential" in query:
        caller, _, region, service, _ = (query["X-Amz-Credential"][0].split("/") + [""] * 5)[:5]
        caller = f"{caller} (presigned)"
    elif method == "POST" and environ.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        caller, region, service = "uploader", "", "s3"
    else:
        caller, region, service = "unsigned", "", "unknown"
    if service == "s3":
        return caller, service, region, _s3_operation(method, path, query, environ), b"", {}
    body = _read_body(environ)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    document = {}
    if target:
        if target.startswith("DynamoDBStreams"):
            service = "dynamodbstreams"
        operation = target.rsplit(".", 1)[-1]
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            document = {}
        if not isinstance(document, dict):
            document = {}
    else:
        form = parse_qs(body.decode("utf-8", "replace")) if body else {}
        action = (form.get("Action") or query.get("Action") or [""])[0]
        operation = action or f"{method} {path.split('/')[1] if '/' in path else path}"
        document = {k: v[0] for k, v in form.items()}
    if service == "dynamodb":
        operation += "".join(f" {table}" for table in _tables(document))
    elif service == "sqs":
        operation += _fifo(document.get("QueueUrl", ""))
    elif service == "sns":
        operation += _fifo(document.get("TopicArn", ""))
    return caller, service, region, operation, body, document


# DynamoDB request units.


def _tables(request):
    """The tables a DynamoDB request names, in order."""
    names = [request.get("TableName", "")] + list(request.get("RequestItems", {}))
    for entry in request.get("TransactItems", []):
        names += [body.get("TableName", "") for body in entry.values()]
    return list(dict.fromkeys(name for name in names if name))


def _units(size, per):
    return max(1, math.ceil(size / per))


def _table(region, name):
    try:
        return dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(name)
    except Exception:  # noqa: BLE001 - an unknown table: moto answers the error itself
        return None


def _stored(table, key):
    """A copy of the item with `key` (moto changes items in place), or None."""
    if table is None or not key:
        return None
    try:
        range_key = key.get(table.range_key_attr) if table.range_key_attr else None
        item = table.get_item(
            DynamoType(key[table.hash_key_attr]),
            DynamoType(range_key) if range_key else None,
        )
    except Exception:  # noqa: BLE001 - a malformed key: moto refuses the request itself
        return None
    return copy.deepcopy(item) if item is not None else None


def _key_of(table, item):
    if table is None:
        return {}
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: item[name] for name in names if name in item}


def _touched(region, operation, request):
    """The items a request names: (table, key, kind, consistent read, transactional)."""
    touched = []

    def add(table_name, key=None, item=None, kind="write", consistent=False, transactional=False):
        table = _table(region, table_name)
        touched.append((table, key or _key_of(table, item or {}), kind, consistent, transactional))

    operation = operation.split(" ", 1)[0]
    if operation == "PutItem":
        add(request.get("TableName", ""), item=request.get("Item"))
    elif operation in ("UpdateItem", "DeleteItem"):
        add(request.get("TableName", ""), key=request.get("Key"))
    elif operation == "GetItem":
        add(request.get("TableName", ""), key=request.get("Key"), kind="read",
            consistent=bool(request.get("ConsistentRead")))
    elif operation == "TransactWriteItems":
        for entry in request.get("TransactItems", []):
            for body in entry.values():
                add(body.get("TableName", ""), key=body.get("Key"), item=body.get("Item"),
                    transactional=True)
    elif operation == "TransactGetItems":
        for entry in request.get("TransactItems", []):
            body = entry.get("Get", {})
            add(body.get("TableName", ""), key=body.get("Key"), kind="read", consistent=True,
                transactional=True)
    elif operation == "BatchWriteItem":
        for table_name, entries in request.get("RequestItems", {}).items():
            for entry in entries:
                put = entry.get("PutRequest", {})
                add(table_name, key=entry.get("DeleteRequest", {}).get("Key"), item=put.get("Item"))
    elif operation == "BatchGetItem":
        for table_name, wanted in request.get("RequestItems", {}).items():
            for key in wanted.get("Keys", []):
                add(table_name, key=key, kind="read",
                    consistent=bool(wanted.get("ConsistentRead")))
    return touched


def _index_write_units(index, old, new):
    """WRUs of one global secondary index for an item going from `old` to `new`."""
    names = [k["AttributeName"] for k in index.schema]

    def entry(item):
        if item is None or not all(n in item.attrs for n in names):
            return None
        return index.project(item)

    before, after = entry(old), entry(new)
    if before is None and after is None:
        return 0
    if before is None or after is None:
        return _units((before or after).size(), 1024)
    if all(before.attrs[n] == after.attrs[n] for n in names):
        if before.to_json() == after.to_json():
            return 0
        return _units(max(before.size(), after.size()), 1024)
    # The index key changed: the old entry is deleted and the new one put.
    return _units(before.size(), 1024) + _units(after.size(), 1024)


def _dynamodb_call(app, environ, start_response, region, operation, request):
    """Runs a DynamoDB request, answering (its response, read units, write units, the items
    it named)."""
    with _ONE_AT_A_TIME:
        try:
            touched = _touched(region, operation, request)
        except Exception:  # noqa: BLE001 - a malformed request: moto answers it, unmeasured
            touched = []
        before = [_stored(table, key) for table, key, *_ in touched]
        answer = []

        def remember(status, headers, exc_info=None):
            answer.append((status, headers, exc_info))
            return lambda data: None

        result = app(environ, remember)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        read_units, write_units = _measure(touched, before, operation, request, body)
    status, headers, exc_info = answer[0]
    start_response(status, headers, exc_info)
    items = [
        json.dumps([table.name if table else "", key], sort_keys=True)
        for table, key, *_ in touched
    ]
    return [body], read_units, write_units, items


def _measure(touched, before, operation, request, body):
    """(read units, write units) of a request that ran: `before` holds the touched items as
    they were."""
    read_units = write_units = 0.0
    try:
        for (table, key, kind, consistent, transactional), old in zip(touched, before):
            new = _stored(table, key)
            factor = 2 if transactional else 1
            if kind == "read":
                size = new.size() if new is not None else 0
                read_units += _units(size, 4096) * factor * (1 if consistent else 0.5)
                continue
            sizes = [item.size() for item in (old, new) if item is not None]
            write_units += _units(max(sizes, default=0), 1024) * factor
            if table is not None:
                for index in table.global_indexes:
                    write_units += _index_write_units(index, old, new)
        if operation.startswith(("Query", "Scan")):
            try:
                items = json.loads(body or b"{}").get("Items", [])
                size = sum(
                    len(name.encode()) + DynamoType(value).size()
                    for item in items
                    for name, value in item.items()
                )
            except Exception:  # noqa: BLE001 - an error answer: one unit, as AWS bills
                size = 0
            read_units += _units(size, 4096) * (1 if request.get("ConsistentRead") else 0.5)
    except Exception:  # noqa: BLE001 - the counts never cost moto its answer
        pass
    return read_units, write_units


class RequestCounter:
    """WSGI middleware: counts each request, and serves the counts at COUNTS_PATH."""

    def __init__(self, app):
        self.app = app

    def __getattr__(self, name):
        # moto.server sets and reads attributes (debug) of the app it wraps.
        return getattr(self.app, name)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == COUNTS_PATH:
            return self.counts(environ, start_response)
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)
        try:
            caller, service, region, operation, body, document = _classify(environ)
        except Exception:  # noqa: BLE001 - counted as unknown; moto answers it as it would
            caller, service, region, operation, body, document = (
                "unknown", "unknown", "", "unclassified", b"", {}
            )
        _serving.service = service
        try:
            if service == "dynamodb":
                response, read_units, write_units, items = _dynamodb_call(
                    self.app, environ, start_response, region, operation, document
                )
                _count(caller, service, operation, len(body), read_units, write_units, items)
                return response
            _count(caller, service, operation, len(body))
            return self.app(environ, start_response)
        finally:
            _serving.service = None

    def counts(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if method == "DELETE":
            with _counts_lock:
                _counts.clear()
            start_response("204 No Content", [])
            return [b""]
        if method != "GET":
            start_response("405 Method Not Allowed", [("Content-Type", "text/plain")])
            return [b"GET or DELETE"]
        body = _counts_json()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]


_send_message = SQSBackend.send_message


@functools.wraps(_send_message)
def _counted_send_message(self, queue_name, *args, **kwargs):
    # A message S3 or SNS delivers inside moto; SQS's own SendMessage was counted as a request.
    via = getattr(_serving, "service", None)
    if via in ("s3", "sns"):
        _count(via, "sqs", "SendMessage" + _fifo(queue_name))
    return _send_message(self, queue_name, *args, **kwargs)


SQSBackend.send_message = _counted_send_message

_moto_app = moto.server.DomainDispatcherApplication
moto.server.DomainDispatcherApplication = lambda *args, **kwargs: RequestCounter(
    _moto_app(*args, **kwargs)
)

if __name__ == "__main__":
    moto.server.main()
