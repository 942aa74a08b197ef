//! The C ABI: Paho C's MQTTClient/MQTTAsync/MQTTProperties functions and
//! MQTTBroker_*. Checks, converts, calls one client/broker function, maps errors.
