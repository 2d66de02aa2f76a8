//! The Eaton ePDU (eaton_epdu) daisy chain, on a synthetic agent built from
//! the mapping's documented objects: unitsPresent (".534.6.6.7.1.1.0", a
//! comma-separated list of units) and the per-unit model names.

use nut_proto::publish::{Publish, Recorder};
use nut_snmp::{MapAgent, Options, Session, Value};

fn s(v: &str) -> Value {
    Value::OctetString(v.as_bytes().to_vec())
}

#[test]
fn two_unit_chain() {
    let mut a = MapAgent::new();
    a.insert("1.3.6.1.2.1.1.2.0", Value::ObjectId("1.3.6.1.4.1.534.6.6.7".into()));
    a.insert("1.3.6.1.4.1.534.6.6.7.1.1.0", s("0,1"));
    // unit index 0 and 1 (NUT probes index 0 first: base 0, offset -1)
    a.insert("1.3.6.1.4.1.534.6.6.7.1.2.1.2.0", s("EMAB01"));
    a.insert("1.3.6.1.4.1.534.6.6.7.1.2.1.2.1", s("EMAB02"));
    a.insert("1.3.6.1.4.1.534.6.6.7.1.2.1.4.0", s("SN-A"));
    a.insert("1.3.6.1.4.1.534.6.6.7.1.2.1.4.1", s("SN-B"));
    let m = nut_snmp::detect(&mut a, "auto").unwrap();
    assert_eq!(m.name, "eaton_epdu");
    let mut r = Recorder::new();
    let mut sess = Session::new(m, Options::default());
    sess.init(&mut a, &mut r);
    sess.update(&mut a, &mut r);
    assert!(sess.daisy_chain());
    assert_eq!(sess.devices(), 2);
    assert_eq!(r.getinfo("device.count"), Some("2"));
    assert_eq!(r.getinfo("device.model"), Some("daisychain pdu (1+1)"));
    assert_eq!(r.getinfo("device.1.model"), Some("EMAB01"));
    assert_eq!(r.getinfo("device.2.model"), Some("EMAB02"));
    assert_eq!(r.getinfo("device.1.serial"), Some("SN-A"));
    assert_eq!(r.getinfo("device.2.serial"), Some("SN-B"));
    assert_eq!(r.getinfo("driver.version.data"), Some("eaton_epdu MIB 0.69"));
    // the SETs of a chained unit address it; the whole chain is refused
    assert!(sess.setvar(&r, "outlet.1.desc", "x").is_err());
}
