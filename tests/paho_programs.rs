//! Debian's prebuilt Paho C sample programs (paho_cs_pub / paho_cs_sub, sync
//! API) through mosquitto, MQTT 3.1.1 and 5, QoS 0/1/2: `debian_paho::*` runs
//! them on Paho's own library (the reference), `on_ferromq::*` on ours.
//! The machinery is in tests/support/paho_programs.rs.

mod support;

use support::paho_programs::Programs;

const PROGRAMS: Programs = Programs {
    publisher: "/usr/bin/paho_cs_pub",
    subscriber: "/usr/bin/paho_cs_sub",
    topic_root: "paho",
    id_prefix: "cs",
};

paho_programs_matrix!(crate::PROGRAMS);
