//! USB through `rusb` (the system's libusb-1.0, linked dynamically):
//! finding a device as NUT's drivers match it, and [`UsbHid`], the
//! [`HidLink`] of `usbhid-ups`. Feature `usb`.

use nut_driver::Message;
use nut_driver::params::DriverParams;
use nut_driver::transport::{HidLink, InterruptPipe, LinkError, ReportType, UsbIds};
use regex_lite::{Regex, RegexBuilder};
use rusb::{Device, DeviceHandle, GlobalContext};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a control transfer may take (NUT's `usb_ctrl` timeout).
pub const CONTROL_TIMEOUT: Duration = Duration::from_millis(5000);

/// What a USB error means for the driver.
pub fn link_error(e: rusb::Error) -> LinkError {
    match e {
        rusb::Error::Timeout => LinkError::Timeout,
        rusb::Error::Pipe => LinkError::Stall,
        rusb::Error::NoDevice | rusb::Error::NotFound | rusb::Error::Io => {
            LinkError::Disconnected(Box::new(e))
        }
        e => LinkError::Io(Box::new(e)),
    }
}

/// Why a matcher setting cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid {key} regular expression {value:?}: {error}")]
pub struct MatcherError {
    key: &'static str,
    value: String,
    #[source]
    error: regex_lite::Error,
}

/// Which device to use: NUT's `vendorid`, `productid`, `vendor`,
/// `product`, `serial`, `bus`, `device` and `busport` settings, each a
/// case-insensitive regular expression that must match the whole value
/// (IDs as four lowercase hex digits), as NUT matches them.
#[derive(Clone, Debug, Default)]
pub struct UsbMatcher {
    rules: Vec<(&'static str, Regex)>,
}

impl UsbMatcher {
    /// The keys NUT's USB drivers accept for matching.
    pub const KEYS: [&'static str; 8] =
        ["vendorid", "productid", "vendor", "product", "serial", "bus", "device", "busport"];

    /// The matcher of these settings.
    pub fn from_params(params: &DriverParams) -> Result<UsbMatcher, MatcherError> {
        let mut rules = Vec::new();
        for key in Self::KEYS {
            if let Some(v) = params.get(key) {
                let re = RegexBuilder::new(&format!("^(?:{v})$"))
                    .case_insensitive(true)
                    .build()
                    .map_err(|error| MatcherError { key, value: v.into(), error })?;
                rules.push((key, re));
            }
        }
        Ok(UsbMatcher { rules })
    }

    /// Whether `ids` match every rule. A rule on a string the device does
    /// not have does not match (as NUT).
    pub fn matches(&self, ids: &UsbIds) -> bool {
        self.rules.iter().all(|(key, re)| {
            let value = match *key {
                "vendorid" => Some(format!("{:04x}", ids.vendor_id)),
                "productid" => Some(format!("{:04x}", ids.product_id)),
                "vendor" => ids.vendor.clone(),
                "product" => ids.product.clone(),
                "serial" => ids.serial.clone(),
                "bus" => ids.bus.clone(),
                "device" => ids.device.clone(),
                "busport" => ids.busport.clone(),
                _ => None,
            };
            value.is_some_and(|v| re.is_match(&v))
        })
    }

    /// Whether a setting for `key` was given.
    pub fn has(&self, key: &str) -> bool {
        self.rules.iter().any(|(k, _)| *k == key)
    }
}

/// NUT's `usb_set_altinterface` setting: `None` when not given (no
/// SET_INTERFACE request is sent, as in NUT since 2.7.3); else the alternate
/// setting to select once the interface is claimed, read as `strtol` reads it
/// (no value: 0), with NUT's warnings for a value that is not a number or not
/// in 0..=255.
pub fn alt_setting(params: &DriverParams) -> Option<i64> {
    if !params.has("usb_set_altinterface") {
        return None;
    }
    let Some(v) = params.get("usb_set_altinterface") else { return Some(0) };
    let n = nut_hid::mapping::atol(v);
    let t = v.trim_start();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        tracing::warn!("usb_set_altinterface: '{v}' is not a valid number");
    }
    if !(0..=255).contains(&n) {
        tracing::warn!("usb_set_altinterface: alternate setting {n} will probably not work");
    }
    Some(n)
}

/// Reads what identifies a device; strings that cannot be read are `None`.
pub fn device_ids(
    dev: &Device<GlobalContext>,
    handle: Option<&DeviceHandle<GlobalContext>>,
) -> Option<UsbIds> {
    let desc = dev.device_descriptor().ok()?;
    let v = desc.device_version();
    let bcd = (u16::from(v.major()) << 8) | (u16::from(v.minor()) << 4) | u16::from(v.sub_minor());
    let string = |idx: Option<u8>| -> Option<String> {
        let h = handle?;
        let idx = idx?;
        let langs = h.read_languages(CONTROL_TIMEOUT).ok()?;
        let lang = *langs.first()?;
        h.read_string_descriptor(lang, idx, CONTROL_TIMEOUT)
            .ok()
            .map(|s| s.trim_end().to_string())
            .filter(|s| !s.is_empty())
    };
    let busport = dev
        .port_numbers()
        .ok()
        .filter(|p| !p.is_empty())
        .map(|p| p.iter().map(|n| format!("{n:03}")).collect::<Vec<_>>().join("."));
    Some(UsbIds {
        vendor_id: desc.vendor_id(),
        product_id: desc.product_id(),
        bcd_device: bcd,
        vendor: string(desc.manufacturer_string_index()),
        product: string(desc.product_string_index()),
        serial: string(desc.serial_number_string_index()),
        bus: Some(format!("{:03}", dev.bus_number())),
        device: Some(format!("{:03}", dev.address())),
        busport,
    })
}

/// An open device and the interface claimed on it, released when the last
/// user lets it go: the link, or a thread still waiting on its interrupt
/// pipe ([`UsbHid::interrupt_pipe`]).
struct Claimed {
    handle: DeviceHandle<GlobalContext>,
    interface: u8,
}

impl Drop for Claimed {
    fn drop(&mut self) {
        let _ = self.handle.release_interface(self.interface);
    }
}

/// A HID interface of an open USB device.
pub struct UsbHid {
    dev: Arc<Claimed>,
    ids: UsbIds,
    interface: u8,
    endpoint_in: Option<u8>,
    descriptor_len: u16,
}

impl std::fmt::Debug for UsbHid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbHid")
            .field("ids", &self.ids)
            .field("interface", &self.interface)
            .finish()
    }
}

/// Which interface to take: the first HID one (class 3), or `interface`.
fn hid_interface(dev: &Device<GlobalContext>, want: Option<u8>) -> Option<(u8, Option<u8>, u16)> {
    let config = dev.active_config_descriptor().or_else(|_| dev.config_descriptor(0)).ok()?;
    for iface in config.interfaces() {
        for alt in iface.descriptors() {
            let number = alt.interface_number();
            if want.is_some_and(|w| w != number) || (want.is_none() && alt.class_code() != 3) {
                continue;
            }
            let endpoint = alt
                .endpoint_descriptors()
                .find(|e| {
                    e.direction() == rusb::Direction::In
                        && e.transfer_type() == rusb::TransferType::Interrupt
                })
                .map(|e| e.address());
            // The HID descriptor (type 0x21) in the extra bytes gives the
            // report descriptor's length at bytes 7..9.
            let extra = alt.extra();
            let len = match extra {
                [_, 0x21, _, _, _, _, _, lo, hi, ..] => u16::from_le_bytes([*lo, *hi]),
                _ => 4096,
            };
            return Some((number, endpoint, len));
        }
    }
    None
}

impl UsbHid {
    /// Finds and opens the first device that `accept` takes (given its
    /// identity) and that has a HID interface (or interface `interface`);
    /// detaches the kernel driver and claims the interface.
    pub fn open(
        mut accept: impl FnMut(&UsbIds) -> bool,
        interface: Option<u8>,
    ) -> Result<UsbHid, LinkError> {
        let devices = rusb::devices().map_err(link_error)?;
        let mut last_error = None;
        for dev in devices.iter() {
            let Ok(handle) = dev.open() else { continue };
            let Some(ids) = device_ids(&dev, Some(&handle)) else { continue };
            if !accept(&ids) {
                continue;
            }
            let Some((iface, endpoint_in, descriptor_len)) = hid_interface(&dev, interface) else {
                continue;
            };
            if handle.kernel_driver_active(iface).unwrap_or(false) {
                let _ = handle.detach_kernel_driver(iface);
            }
            match handle.claim_interface(iface) {
                Ok(()) => {
                    return Ok(UsbHid {
                        dev: Arc::new(Claimed { handle, interface: iface }),
                        ids,
                        interface: iface,
                        endpoint_in,
                        descriptor_len,
                    });
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(match last_error {
            Some(e) => LinkError::Io(Box::new(e)),
            None => LinkError::Disconnected(Message::cause("no matching USB HID device found")),
        })
    }

    /// The claimed interface.
    pub fn interface(&self) -> u8 {
        self.interface
    }

    /// Selects alternate setting `alt` of the claimed interface (SET_INTERFACE), as
    /// NUT does when `usb_set_altinterface` is given ([`alt_setting`]). A failure is
    /// logged, never fatal.
    pub fn set_alt_setting(&mut self, alt: i64) {
        // Only right after opening, before any interrupt reader shares the handle.
        let r = match (u8::try_from(alt), Arc::get_mut(&mut self.dev)) {
            (Ok(a), Some(dev)) => dev.handle.set_alternate_setting(self.interface, a),
            (Ok(_), None) => Err(rusb::Error::Busy),
            (Err(_), _) => Err(rusb::Error::InvalidParam),
        };
        if let Err(e) = r {
            tracing::warn!(
                "setting alternate setting {alt} of interface {} failed: {e}",
                self.interface
            );
        }
        tracing::info!(
            "usb_set_altinterface should not be needed; please report this UPS to the NUT developers"
        );
    }
}

impl HidLink for UsbHid {
    fn ids(&self) -> &UsbIds {
        &self.ids
    }

    fn report_descriptor(&mut self) -> Result<Vec<u8>, LinkError> {
        let mut buf = vec![0u8; usize::from(self.descriptor_len).clamp(1, 4096)];
        let n = self
            .dev
            .handle
            .read_control(0x81, 0x06, 0x2200, u16::from(self.interface), &mut buf, CONTROL_TIMEOUT)
            .map_err(link_error)?;
        buf.truncate(n);
        Ok(buf)
    }

    fn get_report(&mut self, kind: ReportType, id: u8, buf: &mut [u8]) -> Result<usize, LinkError> {
        let value = ((kind as u16) << 8) | u16::from(id);
        self.dev
            .handle
            .read_control(0xa1, 0x01, value, u16::from(self.interface), buf, CONTROL_TIMEOUT)
            .map_err(link_error)
    }

    fn set_report(&mut self, kind: ReportType, id: u8, data: &[u8]) -> Result<usize, LinkError> {
        let value = ((kind as u16) << 8) | u16::from(id);
        self.dev
            .handle
            .write_control(0x21, 0x09, value, u16::from(self.interface), data, CONTROL_TIMEOUT)
            .map_err(link_error)
    }

    fn read_interrupt(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError> {
        let Some(ep) = self.endpoint_in else { return Err(LinkError::Timeout) };
        // A deadline already past still reads what the device has queued: libusb's
        // timeout 0 would mean "forever", so the shortest wait is 1 ms. libusb counts
        // whole milliseconds: rounded up, a wait that times out ends at the deadline,
        // not just before it.
        let left = deadline.saturating_duration_since(Instant::now());
        let wait = Duration::from_millis(left.as_micros().div_ceil(1000).max(1) as u64);
        self.dev.handle.read_interrupt(ep, buf, wait).map_err(link_error)
    }

    fn string(&mut self, index: u8) -> Result<String, LinkError> {
        let langs = self.dev.handle.read_languages(CONTROL_TIMEOUT).map_err(link_error)?;
        let lang = *langs.first().ok_or(LinkError::Stall)?;
        self.dev.handle.read_string_descriptor(lang, index, CONTROL_TIMEOUT).map_err(link_error)
    }

    fn interrupt_pipe(&mut self) -> Option<Box<dyn InterruptPipe>> {
        let endpoint = self.endpoint_in?;
        Some(Box::new(UsbInterruptPipe { dev: self.dev.clone(), endpoint }))
    }
}

/// The interrupt IN pipe of a [`UsbHid`], shared with it (libusb lets one
/// thread wait on it while another makes control transfers).
struct UsbInterruptPipe {
    dev: Arc<Claimed>,
    endpoint: u8,
}

impl InterruptPipe for UsbInterruptPipe {
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        // libusb's timeout 0 means "forever".
        let wait = timeout.max(Duration::from_millis(1));
        self.dev.handle.read_interrupt(self.endpoint, buf, wait).map_err(link_error)
    }
}

/// Something that performs the transfers of a Megatec USB bridge: the
/// device behind a [`UsbRaw`] made with [`UsbRaw::with_transport`] (a test
/// double, a replay) instead of a libusb handle.
pub trait RawTransport: Send + 'static {
    /// Performs one transfer, as [`UsbRaw::transfer`] documents.
    fn transfer(
        &mut self,
        t: &nut_megatec::usb::Transfer,
    ) -> Result<nut_megatec::usb::TransferResult, LinkError>;
}

/// A whole USB device for the Megatec serial-over-USB bridges of
/// `nutdrv_qx` and `blazer_usb`: raw control, interrupt and string
/// transfers on interface 0 (these bridges are not HID-class drivers'
/// business: NUT talks to them with libusb directly).
pub struct UsbRaw {
    inner: RawInner,
    ids: UsbIds,
}

enum RawInner {
    Device(DeviceHandle<GlobalContext>),
    Transport(Box<dyn RawTransport>),
}

impl std::fmt::Debug for UsbRaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbRaw").field("ids", &self.ids).finish()
    }
}

impl UsbRaw {
    /// Finds and opens the first device for which `accept` (given its
    /// identity) returns something, detaches a kernel driver from
    /// interface 0 and claims it. Returns the device and what `accept`
    /// returned (the framing).
    pub fn open<T>(mut accept: impl FnMut(&UsbIds) -> Option<T>) -> Result<(UsbRaw, T), LinkError> {
        let devices = rusb::devices().map_err(link_error)?;
        let mut last_error = None;
        for dev in devices.iter() {
            let Ok(handle) = dev.open() else { continue };
            let Some(ids) = device_ids(&dev, Some(&handle)) else { continue };
            let Some(what) = accept(&ids) else { continue };
            if handle.kernel_driver_active(0).unwrap_or(false) {
                let _ = handle.detach_kernel_driver(0);
            }
            match handle.claim_interface(0) {
                Ok(()) => return Ok((UsbRaw { inner: RawInner::Device(handle), ids }, what)),
                Err(e) => last_error = Some(e),
            }
        }
        Err(match last_error {
            Some(e) => LinkError::Io(Box::new(e)),
            None => LinkError::Disconnected(Message::cause("no matching USB device found")),
        })
    }

    /// A device identified as `ids` whose transfers `transport` performs.
    pub fn with_transport(transport: Box<dyn RawTransport>, ids: UsbIds) -> UsbRaw {
        UsbRaw { inner: RawInner::Transport(transport), ids }
    }

    /// What identifies the device.
    pub fn ids(&self) -> &UsbIds {
        &self.ids
    }

    /// Performs one bridge transfer. A lost device is an error; timeouts,
    /// stalls and other failures are results for the bridge to judge.
    pub fn transfer(
        &mut self,
        t: &nut_megatec::usb::Transfer,
    ) -> Result<nut_megatec::usb::TransferResult, LinkError> {
        use nut_megatec::usb::{Transfer, TransferResult};
        let handle = match &mut self.inner {
            RawInner::Device(h) => h,
            RawInner::Transport(x) => return x.transfer(t),
        };
        let ms = |m: u32| Duration::from_millis(u64::from(m));
        let r: Result<TransferResult, rusb::Error> = match t {
            Transfer::ControlOut { request_type, request, value, index, data, timeout_ms } => {
                handle
                    .write_control(*request_type, *request, *value, *index, data, ms(*timeout_ms))
                    .map(TransferResult::Done)
            }
            Transfer::ControlIn { request_type, request, value, index, length, timeout_ms } => {
                let mut buf = vec![0u8; usize::from(*length)];
                handle
                    .read_control(
                        *request_type,
                        *request,
                        *value,
                        *index,
                        &mut buf,
                        ms(*timeout_ms),
                    )
                    .map(|n| {
                        buf.truncate(n);
                        TransferResult::Data(buf)
                    })
            }
            Transfer::GetString { index, langid: None, .. } => handle
                .read_string_descriptor_ascii(*index)
                .map(|s| TransferResult::Data(s.into_bytes())),
            Transfer::GetString { index, langid: Some(lang), length } => {
                let mut buf = vec![0u8; usize::from(*length).max(2)];
                // GET_DESCRIPTOR(STRING) in that language: the raw descriptor.
                let value = (0x03u16 << 8) | u16::from(*index);
                handle.read_control(0x80, 0x06, value, *lang, &mut buf, CONTROL_TIMEOUT).map(|n| {
                    buf.truncate(n);
                    TransferResult::Data(buf)
                })
            }
            Transfer::InterruptOut { endpoint, data, timeout_ms } => {
                handle.write_interrupt(*endpoint, data, ms(*timeout_ms)).map(TransferResult::Done)
            }
            Transfer::InterruptIn { endpoint, length, timeout_ms } => {
                let mut buf = vec![0u8; *length];
                handle.read_interrupt(*endpoint, &mut buf, ms(*timeout_ms)).map(|n| {
                    buf.truncate(n);
                    TransferResult::Data(buf)
                })
            }
            Transfer::Sleep { ms: m } => {
                std::thread::sleep(ms(*m));
                Ok(TransferResult::Done(0))
            }
            _ => Ok(TransferResult::Error(-12)),
        };
        match r {
            Ok(r) => Ok(r),
            Err(rusb::Error::Timeout) => Ok(TransferResult::Timeout),
            Err(rusb::Error::Pipe) => Ok(TransferResult::Stall),
            Err(e) => match link_error(e) {
                d @ LinkError::Disconnected(_) => Err(d),
                _ => Ok(TransferResult::Error(-1)),
            },
        }
    }
}

impl Drop for UsbRaw {
    fn drop(&mut self) {
        if let RawInner::Device(h) = &mut self.inner {
            let _ = h.release_interface(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> DriverParams {
        let mut p = DriverParams::new("usbhid-ups", "u");
        for (k, v) in pairs {
            p.values.push(((*k).into(), Some((*v).into())));
        }
        p
    }

    #[test]
    fn matcher_is_whole_string_and_case_insensitive() {
        let ids = UsbIds {
            vendor_id: 0x051d,
            product_id: 0x0002,
            vendor: Some("American Power Conversion".into()),
            product: Some("Back-UPS ES 850G2".into()),
            serial: Some("4B1234P56789".into()),
            bus: Some("001".into()),
            device: Some("004".into()),
            busport: Some("001.002".into()),
            ..UsbIds::default()
        };
        let m = |pairs: &[(&str, &str)]| UsbMatcher::from_params(&params(pairs)).unwrap();
        assert!(m(&[]).matches(&ids));
        assert!(m(&[("vendorid", "051D"), ("productid", "0002")]).matches(&ids));
        assert!(!m(&[("vendorid", "051")]).matches(&ids), "a prefix is not a match");
        assert!(m(&[("product", "back-ups.*")]).matches(&ids));
        assert!(m(&[("serial", "4B1234P56789"), ("bus", "001")]).matches(&ids));
        assert!(!m(&[("serial", "other")]).matches(&ids));
        let no_serial = UsbIds { serial: None, ..ids.clone() };
        assert!(!m(&[("serial", ".*")]).matches(&no_serial));
        assert!(UsbMatcher::from_params(&params(&[("vendor", "(")])).is_err());
    }

    #[test]
    fn alt_setting_reads_as_nut() {
        assert_eq!(alt_setting(&params(&[])), None);
        assert_eq!(alt_setting(&params(&[("usb_set_altinterface", "1")])), Some(1));
        assert_eq!(alt_setting(&params(&[("usb_set_altinterface", " 2x")])), Some(2));
        assert_eq!(alt_setting(&params(&[("usb_set_altinterface", "abc")])), Some(0));
        assert_eq!(alt_setting(&params(&[("usb_set_altinterface", "300")])), Some(300));
        let mut flag = DriverParams::new("usbhid-ups", "u");
        flag.values.push(("usb_set_altinterface".into(), None));
        assert_eq!(alt_setting(&flag), Some(0));
    }
}
