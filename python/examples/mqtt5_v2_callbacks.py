# paho-mqtt 2.x style: CallbackAPIVersion.VERSION2 signatures, MQTT 5 properties.
# Subscribes, publishes to itself once the subscription is granted, prints the
# message and its user property, then disconnects. Only the imports name ferromq.
import os

import ferromq.client as mqtt
from ferromq.packettypes import PacketTypes
from ferromq.properties import Properties

HOST = os.environ.get("MQTT_HOST", "localhost")
PORT = int(os.environ.get("MQTT_PORT", "1883"))


def on_connect(client, userdata, flags, reason_code, properties):
    print(f"Connected: {reason_code}, session present: {flags.session_present}")
    client.subscribe("tutorial/v5", qos=1)


def on_subscribe(client, userdata, mid, reason_code_list, properties):
    print("Subscribed:", [str(rc) for rc in reason_code_list])
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = ("sender", "example")
    client.publish("tutorial/v5", "hello v5", qos=1, properties=props)


def on_message(client, userdata, msg):
    print(msg.topic, msg.payload, msg.properties.UserProperty)
    client.disconnect()


def on_disconnect(client, userdata, flags, reason_code, properties):
    print(f"Disconnected: {reason_code}")


client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
client.on_disconnect = on_disconnect
client.connect(HOST, PORT)
client.loop_forever()
