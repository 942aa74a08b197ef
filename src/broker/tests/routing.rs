//! Routing: QoS flows both ways, downgrade, ordering and window, retained
//! messages, overlapping subscriptions, host hooks for publish/subscribe.
