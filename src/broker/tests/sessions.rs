//! Persistent sessions: offline queuing, resume in order with session
//! present, resend of in-flight messages, expiry, limits and drops.
