//! `snmp-ups`: NUT's generic SNMP UPS/PDU/ATS driver. See the crate README.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    nut_driver::run::run::<nut_drivers::snmp::SnmpUpsDriver>()
}
