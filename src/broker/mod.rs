//! The embeddable broker: a router over sessions (subscriptions, retained
//! messages, wills, limits) driven by the reactor.
