//! Unit tests of MQTTBroker_createOptions version 2 (persistenceLocation):
//! older versions have no store, the location names the file, and a store
//! that cannot be read stops MQTTBroker_start.

use std::ffi::c_int;

use super::broker::*;
use super::broker_options::{initializer, settings};
use super::types::*;

fn settings_rc(o: &MQTTBroker_createOptions) -> c_int {
    // SAFETY: a valid local struct whose pointers (if any) are static.
    match unsafe { settings(o) } {
        Ok(_) => MQTTBROKER_SUCCESS,
        Err(rc) => rc,
    }
}

/// A version 1 struct ends at slowConsumerTimeout: no persistence, and
/// whatever lies after it is not read.
#[test]
fn version_1_options_have_no_store_and_version_2_names_one() {
    let mut full = initializer();
    full.struct_version = 1;
    let len = std::mem::offset_of!(MQTTBroker_createOptions, persistenceLocation);
    let mut bytes = vec![0xFFu8; std::mem::size_of::<MQTTBroker_createOptions>()];
    // SAFETY: copying `len` bytes of a live struct into a larger buffer.
    unsafe {
        std::ptr::copy_nonoverlapping(
            std::ptr::addr_of!(full).cast::<u8>(),
            bytes.as_mut_ptr(),
            len,
        );
    }
    // SAFETY: a readable struct (as large as version 2) with no listeners.
    let s = unsafe { settings(bytes.as_ptr().cast()) }.expect("version 1");
    assert_eq!(s.config.persistence, None);

    let mut o = initializer();
    assert_eq!(o.struct_version, 2);
    // SAFETY: a valid struct without listeners.
    assert_eq!(
        unsafe { settings(&o) }.expect("v2").config.persistence,
        None
    );
    o.persistenceLocation = c"/var/lib/ferromq".as_ptr();
    // SAFETY: as above, with a static location string.
    let s = unsafe { settings(&o) }.expect("v2 with a store");
    assert_eq!(
        s.config.persistence.as_deref(),
        Some(std::path::Path::new("/var/lib/ferromq/ferromq.redb"))
    );
    let bad = [0xC3u8, 0x28, 0];
    o.persistenceLocation = bad.as_ptr().cast();
    assert_eq!(settings_rc(&o), MQTTBROKER_BAD_UTF8_STRING);
}

/// A store that is not one stops MQTTBroker_start with
/// MQTTBROKER_PERSISTENCE_ERROR and is left as it was.
#[test]
fn a_damaged_store_fails_start_with_persistence_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ferromq.redb");
    std::fs::write(&file, vec![7u8; 4096]).unwrap();
    let loc = std::ffi::CString::new(dir.path().to_str().unwrap()).unwrap();
    let listener = c"127.0.0.1:0";
    let listeners = [listener.as_ptr()];
    let mut o = initializer();
    o.listeners = listeners.as_ptr();
    o.listenerCount = 1;
    o.persistenceLocation = loc.as_ptr();
    let mut h: MQTTBroker = std::ptr::null_mut();
    assert_eq!(MQTTBroker_create(&mut h, &o), MQTTBROKER_SUCCESS);
    assert_eq!(MQTTBroker_start(h), MQTTBROKER_PERSISTENCE_ERROR);
    MQTTBroker_destroy(&mut h);
    assert_eq!(std::fs::read(&file).unwrap(), vec![7u8; 4096]);
}
