# An embedded broker with Python callbacks: it refuses clients without a user
# name, refuses subscriptions to "private/#", and logs what clients publish.
# Run it and connect with any MQTT client; Ctrl-C stops it.
import os
import signal
import sys
import threading

import ferromq


def on_client_connect(client):
    print(f"connect: {client.client_id} as {client.username} from {client.address} "
          f"(MQTT protocol level {client.protocol})")
    return client.username is not None  # False refuses (not authorized)


def on_client_subscribe(client, topic):
    print(f"subscribe: {client.client_id} -> {topic}")
    return not topic.startswith("private/")


def on_client_publish(client, topic, message):
    print(f"publish: {client.client_id} -> {topic}: {message.payload!r} (qos {message.qos})")


def on_client_disconnect(client):
    print(f"disconnect: {client.client_id} (reason {client.reason})")


broker = ferromq.Broker("127.0.0.1", int(os.environ.get("MQTT_PORT", "1883")))
broker.on_client_connect = on_client_connect
broker.on_client_subscribe = on_client_subscribe
broker.on_client_publish = on_client_publish
broker.on_client_disconnect = on_client_disconnect

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly on SIGTERM too

with broker:
    print(f"broker listening on 127.0.0.1:{broker.port}", flush=True)
    broker.publish("status/broker", "up", qos=1, retain=True)
    try:
        threading.Event().wait()  # serve until Ctrl-C
    except KeyboardInterrupt:
        pass
print("broker stopped", flush=True)
