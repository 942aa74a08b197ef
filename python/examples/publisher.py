# A publisher in the paho-mqtt tutorial style: loop_start, then a publish loop
# that waits for each acknowledgement. Only the import names ferromq.
import os

import ferromq.client as mqtt

HOST = os.environ.get("MQTT_HOST", "localhost")
PORT = int(os.environ.get("MQTT_PORT", "1883"))


def on_publish(client, userdata, mid):
    userdata.append(mid)


published = []
client = mqtt.Client(userdata=published)
client.on_publish = on_publish
client.connect(HOST, PORT, 60)
client.loop_start()

for i in range(5):
    info = client.publish("tutorial/count", i, qos=1)
    info.wait_for_publish()
    print("published", i, "mid ok:", info.mid in published, "is_published:", info.is_published())

client.publish("tutorial/count", "bye", qos=1).wait_for_publish()
client.disconnect()
client.loop_stop()
print("Publisher done")
