"""moto server, with DynamoDB transactions that cancel only themselves.

moto 5 backs up each table a TransactWriteItems names and, when the transaction is cancelled (a
failed condition, which exactly-once counting meets on every replay), puts the backup back. Every
write other requests made to that table meanwhile is lost with its stream records: the reports
tests lost counts that way when they ran side by side. DynamoDB cancels only the transaction.
Here DynamoDB and DynamoDB Streams requests run one at a time, so a restored backup holds
everything but the cancelled transaction's own writes. moto runs its Python under one lock
anyway, so little concurrency is given up.

Usage: python3 moto_server.py -H 127.0.0.1 -p PORT (the arguments of python3 -m moto.server).
"""

import functools
import threading

import moto.server
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

_ONE_AT_A_TIME = threading.RLock()


def _serialized(call_action):
    @functools.wraps(call_action)
    def call(self):
        with _ONE_AT_A_TIME:
            return call_action(self)

    return call


for handler in (DynamoHandler, DynamoDBStreamsHandler):
    handler.call_action = _serialized(handler.call_action)

if __name__ == "__main__":
    moto.server.main()
