# A subscriber written the way the paho-mqtt tutorials write it: subscribe in
# on_connect, print in on_message, loop_forever. Only the import names ferromq.
# It stops when a message "bye" arrives. MQTT_HOST/MQTT_PORT select the broker.
import os

import ferromq.client as mqtt

HOST = os.environ.get("MQTT_HOST", "localhost")
PORT = int(os.environ.get("MQTT_PORT", "1883"))


def on_connect(client, userdata, flags, rc):
    print("Connected with result code " + str(rc))
    # Subscribing in on_connect() renews the subscription after a reconnect.
    client.subscribe("tutorial/#", qos=1)


def on_message(client, userdata, msg):
    print(msg.topic + " " + str(msg.payload))
    if msg.payload == b"bye":
        client.disconnect()


client = mqtt.Client()
client.on_connect = on_connect
client.on_message = on_message

client.connect(HOST, PORT, 60)
client.loop_forever()
print("Subscriber done")
