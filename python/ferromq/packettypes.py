"""``PacketTypes`` under paho-mqtt's module name (``paho.mqtt.packettypes``)."""

from .properties import PacketTypes

__all__ = ["PacketTypes"]
