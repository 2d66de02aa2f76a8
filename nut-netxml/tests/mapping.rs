//! The mge-xml mapping and the session on a `Recorder`: conversions,
//! status bits, alarms, phase counts, page order, stale rules.

use nut_netxml::{Error, Mapper, Options, Outcome, Session, apply_page};
use nut_proto::publish::{Publish, Recorder};
use std::time::Instant;

fn summary(objects: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::from("<SUMMARY>\n");
    for (n, v) in objects {
        s.push_str(&format!("<OBJECT name=\"{n}\">{v}</OBJECT>\n"));
    }
    s.push_str("</SUMMARY>");
    s.into_bytes()
}

fn apply(options: Options, objects: &[(&str, &str)]) -> Recorder {
    let mut m = Mapper::new(options);
    let mut r = Recorder::new();
    apply_page(&mut m, "/upsprop.xml", &summary(objects), &mut r).unwrap();
    m.commit(&mut r);
    r
}

#[test]
fn conversions() {
    let deci = Options { convert_deci: true, ..Options::default() };
    for (opts, name, raw, var, want) in [
        (
            Options::default(),
            "UPS.PowerSummary.RemainingCapacity",
            "87",
            "battery.charge",
            Some("87"),
        ),
        (
            Options::default(),
            "UPS.BatterySystem.Battery.DesignCapacity",
            "32400",
            "battery.capacity",
            Some("9.00"),
        ),
        (
            Options::default(),
            "UPS.PowerConverter.Output.PowerFactor",
            "70",
            "output.powerfactor",
            Some("0.70"),
        ),
        (
            Options::default(),
            "UPS.PowerSummary.AudibleAlarmControl",
            "3",
            "ups.beeper.status",
            Some("muted"),
        ),
        (
            Options::default(),
            "UPS.PowerSummary.AudibleAlarmControl",
            "4",
            "ups.beeper.status",
            None,
        ),
        (Options::default(), "UPS.PowerConverter.ConverterType", "2", "ups.type", Some("online")),
        (
            Options::default(),
            "UPS.PowerConverter.Output.SensitivityMode",
            "1",
            "input.sensitivity",
            Some("high"),
        ),
        (
            Options::default(),
            "UPS.BatterySystem.Battery.DeepDischargeProtection",
            "x",
            "battery.protection",
            Some("<unknown>"),
        ),
        (
            Options::default(),
            "UPS.OutletSystem.Outlet[2].PresentStatus.SwitchOnOff",
            "0",
            "outlet.1.status",
            Some("off"),
        ),
        (
            Options::default(),
            "UPS.PowerConverter.Input[1].Phase[11].Voltage",
            "4001",
            "input.L1-L2.voltage",
            Some("4001"),
        ),
        (
            deci.clone(),
            "UPS.PowerConverter.Input[1].Phase[11].Voltage",
            "4001",
            "input.L1-L2.voltage",
            Some("400.1"),
        ),
        (
            deci.clone(),
            "UPS.PowerConverter.Output.Phase[11].Voltage",
            "0",
            "output.L1-L2.voltage",
            None,
        ),
        (
            deci,
            "UPS.PowerConverter.Output.Phase[22].Voltage",
            "2305",
            "output.L2-L3.voltage",
            Some("230.5"),
        ),
        (
            Options::default(),
            "Environment.PresentStatus.HighHumidity",
            "1",
            "ambient.humidity.maximum",
            None,
        ),
        (
            Options::default(),
            "Environment.Input[2].PresentStatus.State",
            "1",
            "ambient.contacts.2.status",
            Some("closed"),
        ),
        (
            Options::default(),
            "System.LastAcquisition",
            "2008/03/01 15:23:26",
            "ups.time",
            Some("15:23:26"),
        ),
        (
            Options::default(),
            "System.LastAcquisition",
            "2008/03/01 15:23:26",
            "ups.date",
            Some("2008/03/01"),
        ),
        (Options::default(), "ups.powersummary.ISERIALNUMBER", "AB1", "ups.serial", Some("AB1")),
    ] {
        let r = apply(opts, &[(name, raw)]);
        assert_eq!(r.getinfo(var), want, "{name}={raw} -> {var}");
    }
}

#[test]
fn status_bits_and_alarms() {
    let r = apply(
        Options::default(),
        &[
            ("UPS.PowerSummary.PresentStatus.ACPresent", "0"),
            ("UPS.PowerSummary.PresentStatus.Charging", "1"),
            // a card bug: both set; discharging wins when it comes after
            ("UPS.PowerSummary.PresentStatus.Discharging", "1"),
            ("UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit", "1"),
            ("UPS.PowerConverter.Input[1].PresentStatus.Buck", "1"),
            ("UPS.BatterySystem.Charger.PresentStatus.InternalFailure", "Yes"),
            ("UPS.BatterySystem.Battery.PresentStatus.Present", "0"),
            ("UPS.PowerConverter.Input[1].PresentStatus.FrequencyOutOfRange", "yes"),
        ],
    );
    assert_eq!(r.getinfo("ups.status"), Some("ALARM OB DISCHRG LB TRIM"));
    assert_eq!(r.getinfo("ups.alarm"), Some("No battery installed! Battery charger fail!"));
    assert_eq!(r.getinfo("input.transfer.reason"), Some("input frequency out of range"));
    let r = apply(Options::default(), &[("UPS.PowerSummary.PresentStatus.Good", "0")]);
    assert_eq!(r.getinfo("ups.status"), Some("OB OFF"));
    assert_eq!(r.getinfo("ups.alarm"), None);
}

#[test]
fn shutdown_imminent() {
    let timer = "UPS.PowerSummary.DelayBeforeShutdown";
    let runtime = "System.RunTimeToShutdown";
    let d60 = Options { shutdown_duration: 60, ..Options::default() };
    for (opts, objects, fsd) in [
        (Options::default(), vec![(timer, "120")], true),
        (d60.clone(), vec![(timer, "120")], false),
        (d60.clone(), vec![(timer, "0")], true),
        (d60.clone(), vec![(timer, "-1")], false),
        (d60.clone(), vec![(runtime, "0")], true),
        (d60.clone(), vec![(runtime, "NONE")], false),
        // a pending shutdown timer: RunTimeToShutdown is not looked at
        (d60, vec![(timer, "30"), (runtime, "5")], true),
    ] {
        let r = apply(opts, &objects);
        let status = r.getinfo("ups.status").unwrap();
        assert_eq!(status.contains("FSD"), fsd, "{objects:?}: {status}");
        if objects[0].0 == timer {
            assert_eq!(r.getinfo("ups.timer.shutdown"), Some(objects[0].1));
        }
    }
}

#[test]
fn static_rows_and_phases() {
    let mut m = Mapper::new(Options::default());
    let mut r = Recorder::new();
    let page = summary(&[
        ("UPS.PowerSummary.iProduct", "First"),
        ("System.Description", "Second"),
        ("UPS.PowerSummary.RemainingCapacity", "50"),
    ]);
    apply_page(&mut m, "/s", &page, &mut r).unwrap();
    assert_eq!(r.getinfo("ups.model"), Some("First"));
    let go =
        b"<GET_OBJECT><OBJECT name=\"UPS.PowerConverter.Input[1].Phase[1].Voltage\">230</OBJECT>\
<OBJECT name=\"UPS.PowerConverter.Input[1].Phase[2].Voltage\">231</OBJECT></GET_OBJECT>";
    apply_page(&mut m, "/g", go, &mut r).unwrap();
    assert_eq!(r.getinfo("input.phases"), Some("2"));
    // estimated once
    let go3 = b"<GET_OBJECT><OBJECT name=\"UPS.PowerConverter.Input[1].Phase[3].Voltage\">229</OBJECT></GET_OBJECT>";
    apply_page(&mut m, "/g", go3, &mut r).unwrap();
    assert_eq!(r.getinfo("input.phases"), Some("2"));
}

#[test]
fn refused_pages_publish_nothing_and_name_where() {
    let mut m = Mapper::new(Options::default());
    let mut r = Recorder::new();
    let e = apply_page(
        &mut m,
        "/upsprop.xml",
        b"<SUMMARY><OBJECT name=\"UPS.PowerSummary.RemainingCapacity\">5</OBJECT><OBJECT>",
        &mut r,
    )
    .unwrap_err();
    assert!(
        matches!(&e, Error::Xml { url, element: Some(el), .. } if url == "/upsprop.xml" && el == "OBJECT"),
        "{e}"
    );
    assert_eq!(r.upsc(), "");
}

fn drive(
    s: &mut Session,
    r: &mut Recorder,
    answer: impl Fn(&str) -> (u16, Vec<u8>),
) -> Vec<String> {
    let mut paths = Vec::new();
    while let Some(req) = s.poll_request() {
        paths.push(req.path.clone());
        let (status, body) = answer(&req.path);
        s.handle_response(status, &body, Instant::now(), r);
    }
    paths
}

const PRODUCT: &[u8] = br#"<PRODUCT_INFO name="NMC" type="Monitored ePDU" version="1 (SN X9)">
<SUMMARY><XML_SUMMARY_PAGE url="upsprop.xml"/></SUMMARY>
<UPS_DATA><GET_OBJECT url="getvalue.cgi"/></UPS_DATA></PRODUCT_INFO>"#;

#[test]
fn session_pages_and_stale_rule() {
    let mut s = Session::new(Options::default());
    let mut r = Recorder::new();
    s.connect();
    let paths = drive(&mut s, &mut r, |p| match p {
        "/" => (200, b"<html/>".to_vec()),
        "/ws/product.xml" => (200, PRODUCT.to_vec()),
        _ => (404, b"Not Found".to_vec()),
    });
    assert_eq!(paths, ["/", "/mgeups/product.xml", "/product.xml", "/ws/product.xml"]);
    assert_eq!(s.poll_outcome(), Some(Outcome::Connected));
    assert_eq!(r.getinfo("device.type"), Some("pdu"));
    assert_eq!(r.getinfo("ups.serial"), Some("X9"));
    assert_eq!(r.getinfo("ups.firmware.aux"), Some("NMC/Monitored ePDU/1"));
    assert_eq!(r.getinfo("battery.runtime.low"), Some(""));
    assert!(r.tree().get("battery.runtime.low").unwrap().flags.rw);

    s.update();
    let ok = |p: &str| match p {
        "/getvalue.cgi" => (500, Vec::new()),
        "/upsprop.xml" => (200, summary(&[("UPS.PowerSummary.PresentStatus.ACPresent", "1")])),
        _ => (200, PRODUCT.to_vec()),
    };
    let paths = drive(&mut s, &mut r, ok);
    assert_eq!(paths, ["/getvalue.cgi", "/upsprop.xml", "/ws/product.xml"]);
    match s.poll_outcome() {
        Some(Outcome::Updated { errors }) => {
            assert_eq!(errors, [Error::Http { url: "/getvalue.cgi".into(), status: 500 }])
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(r.getinfo("ups.status"), Some("OL"));

    s.update();
    drive(&mut s, &mut r, |p| if p == "/upsprop.xml" { (200, b"<x>".to_vec()) } else { ok(p) });
    assert!(matches!(s.poll_outcome(), Some(Outcome::Stale { errors }) if errors.len() == 2));
}

#[test]
fn session_failures() {
    let mut s = Session::new(Options::default());
    let mut r = Recorder::new();
    s.connect();
    drive(&mut s, &mut r, |_| (503, Vec::new()));
    assert_eq!(
        s.poll_outcome(),
        Some(Outcome::Failed(Error::Http { url: "/".into(), status: 503 }))
    );

    s.connect();
    drive(&mut s, &mut r, |p| if p == "/" { (200, Vec::new()) } else { (404, Vec::new()) });
    match s.poll_outcome() {
        Some(Outcome::Failed(Error::NoProductPage { tried })) => assert_eq!(tried.len(), 3),
        o => panic!("{o:?}"),
    }

    s.connect();
    drive(&mut s, &mut r, |p| {
        if p == "/" {
            (200, Vec::new())
        } else {
            (200, br#"<PRODUCT_INFO protocol="XML.V4"/>"#.to_vec())
        }
    });
    assert!(matches!(s.poll_outcome(), Some(Outcome::Failed(Error::UnsupportedProtocol { .. }))));

    // a product page naming no other page: two of three pages missing
    let mut s = Session::new(Options::default());
    s.connect();
    drive(&mut s, &mut r, |_| (200, b"<PRODUCT_INFO/>".to_vec()));
    assert_eq!(s.poll_outcome(), Some(Outcome::Connected));
    s.update();
    assert_eq!(
        drive(&mut s, &mut r, |_| (200, b"<PRODUCT_INFO/>".to_vec())),
        ["/mgeups/product.xml"]
    );
    assert!(
        matches!(s.poll_outcome(), Some(Outcome::Stale { errors }) if errors == [Error::NoPage("GET_OBJECT"), Error::NoPage("XML_SUMMARY_PAGE")])
    );
}

#[test]
fn set_form() {
    let s = Session::new(Options::default());
    let req = s.set_request("device.contact", "A & <B>").unwrap();
    assert_eq!(req.path, "/Forms/set_obj_2");
    let body = String::from_utf8(req.body).unwrap();
    assert!(body.contains("<OBJECT name=\"System.Contact\">A &amp; &lt;B&gt;</OBJECT>"), "{body}");
    assert!(s.set_request("no.such", "1").is_none());
    let k = String::from_utf8(s.shutdown_request().body).unwrap();
    assert!(k.contains("<OBJECT name=\"System.RunTimeToEmptyLimit\">999999999</OBJECT>"), "{k}");
}
