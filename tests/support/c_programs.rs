//! What tests/c_client.rs (MQTTClient) and tests/c_async.rs (MQTTAsync)
//! share: the three ways a C test program is built and run, and the macro
//! that makes one test per program and way.

/// How a test program is built and run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Paho headers, linked to and run on Debian's Paho library.
    Paho,
    /// The Paho-built binary run on our library via LD_LIBRARY_PATH.
    PahoBinaryOnFerromq,
    /// Our headers, linked to libferromq, with -DFERROMQ.
    Ferromq,
}

/// For each program name, `paho::NAME`, `paho_binary_on_ferromq::NAME` and
/// `ferromq::NAME` tests calling `crate::run_program(name, variant)`. With a
/// leading `ferromq_broker;`, also `ferromq_broker::NAME` calling
/// `crate::run_program_on(name, Variant::Ferromq, true)` (our own broker).
#[macro_export]
macro_rules! c_program_tests {
    (ferromq_broker; $($name:ident),* $(,)?) => {
        $crate::c_program_tests!($($name),*);
        /// Our library against our own broker.
        mod ferromq_broker {
            $(#[test]
            fn $name() {
                $crate::run_program_on(
                    stringify!($name),
                    $crate::support::c_programs::Variant::Ferromq,
                    true,
                );
            })*
        }
    };
    ($($name:ident),* $(,)?) => {
        /// Reference: Paho headers and Debian's Paho library.
        mod paho {
            $(#[test]
            fn $name() {
                $crate::run_program(
                    stringify!($name),
                    $crate::support::c_programs::Variant::Paho,
                );
            })*
        }
        /// The Paho-built binaries, run on our library under Paho's names.
        mod paho_binary_on_ferromq {
            $(#[test]
            fn $name() {
                $crate::run_program(
                    stringify!($name),
                    $crate::support::c_programs::Variant::PahoBinaryOnFerromq,
                );
            })*
        }
        /// Built against our headers and library, FerroMQ-only checks on.
        mod ferromq {
            $(#[test]
            fn $name() {
                $crate::run_program(
                    stringify!($name),
                    $crate::support::c_programs::Variant::Ferromq,
                );
            })*
        }
    };
}
