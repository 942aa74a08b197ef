"""``ReasonCode`` under paho-mqtt's module name (``paho.mqtt.reasoncodes``)."""

from .properties import ReasonCode

ReasonCodes = ReasonCode  # paho-mqtt 1.x name

__all__ = ["ReasonCode", "ReasonCodes"]
