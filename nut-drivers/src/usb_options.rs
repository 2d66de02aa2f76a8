//! The USB device-matching settings NUT 2.8.0's USB drivers (`usbhid-ups`,
//! `nutdrv_qx`, `blazer_usb`) accept, with NUT's help texts: one entry
//! each, which every driver's option table lists in its own order (NUT's
//! `-h` order). Available without the `usb` feature, so that a driver
//! built for serial ports only still accepts (and ignores) them as NUT's
//! does.

use nut_driver::params::VarSpec;

/// `vendor=`.
pub const VENDOR: VarSpec =
    VarSpec::value("vendor", "Regular expression to match UPS Manufacturer string");
/// `product=`.
pub const PRODUCT: VarSpec =
    VarSpec::value("product", "Regular expression to match UPS Product string");
/// `serial=`.
pub const SERIAL: VarSpec =
    VarSpec::value("serial", "Regular expression to match UPS Serial number");
/// `vendorid=`.
pub const VENDORID: VarSpec = VarSpec::value(
    "vendorid",
    "Regular expression to match UPS Manufacturer numerical ID (4 digits hexadecimal)",
);
/// `productid=`.
pub const PRODUCTID: VarSpec = VarSpec::value(
    "productid",
    "Regular expression to match UPS Product numerical ID (4 digits hexadecimal)",
);
/// `bus=`.
pub const BUS: VarSpec = VarSpec::value("bus", "Regular expression to match USB bus name");
/// `device=`.
pub const DEVICE: VarSpec = VarSpec::value("device", "Regular expression to match USB device name");
/// `busport=` (later NUT releases).
pub const BUSPORT: VarSpec =
    VarSpec::value("busport", "Regular expression to match USB bus port name");
/// `usb_set_altinterface=`.
pub const ALTINTERFACE: VarSpec = VarSpec::value(
    "usb_set_altinterface",
    "Force redundant call to usb_set_altinterface() (value=bAlternateSetting; default=0)",
);
/// `langid_fix=` (the krauler bridge).
pub const LANGID_FIX: VarSpec = VarSpec::value(
    "langid_fix",
    "Apply the language ID workaround to the krauler subdriver (0x409 or 0x4095)",
);
