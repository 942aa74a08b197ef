# The one-call helpers: publish.single / publish.multiple and subscribe.simple.
# A retained message makes subscribe.simple return at once.
import os

import ferromq.publish as publish
import ferromq.subscribe as subscribe

HOST = os.environ.get("MQTT_HOST", "localhost")
PORT = int(os.environ.get("MQTT_PORT", "1883"))

publish.single("tutorial/retained", "kept for later", qos=1, retain=True, hostname=HOST, port=PORT)
publish.multiple(
    [("tutorial/multi", "one", 1), {"topic": "tutorial/multi", "payload": "two", "qos": 1}],
    hostname=HOST,
    port=PORT,
)
msg = subscribe.simple("tutorial/retained", qos=1, hostname=HOST, port=PORT)
print(msg.topic, msg.payload, "retained:", msg.retain)
