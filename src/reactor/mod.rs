//! The one mio event loop of the process: sockets, timers, readiness and
//! write queues for every client and broker connection.
