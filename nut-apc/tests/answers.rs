//! The small parsers against the recorded answers.

mod common;

use common::*;
use nut_apc::answer::{
    self, AnswerError, parse_caps, parse_command_set, parse_status, status_tokens, strtol,
};
use nut_apc::table::{self, Format, Pattern};

#[test]
fn capability_example_decodes_as_the_notes_say() {
    // The header of the file decodes the example: u D 4 3 -> 132 135 138
    // 129, u M -> 229 234 239 224, u A -> 110 112 114 108.
    let a = answers(&parse(&data("smart-protocol-status-and-capabilities.apc")));
    let raw = &a[&0x1a][0];
    let raw = &raw[..raw.len() - 2];
    let caps = parse_caps(raw, false).unwrap();
    let got: Vec<(u8, u8, Vec<&str>)> = caps
        .iter()
        .map(|e| {
            (e.cmd, e.locale, e.values.iter().map(|v| std::str::from_utf8(v).unwrap()).collect())
        })
        .collect();
    assert_eq!(
        got,
        [
            (b'u', b'D', vec!["132", "135", "138", "129"]),
            (b'u', b'M', vec!["229", "234", "239", "224"]),
            (b'u', b'A', vec!["110", "112", "114", "108"]),
        ]
    );
    // Matrix form: each entry led by "##".
    let m = parse_caps(b"##uD43132135138129##uM43229234239224", false).unwrap();
    assert_eq!(m.len(), 2);
    // Truncated: the last value reads as far as the answer goes.
    let t = parse_caps(b"#uD4313213", false).unwrap();
    assert_eq!(t[0].values, [b"132".to_vec(), b"13".to_vec(), vec![], vec![]]);
    assert_eq!(parse_caps(b"xuD4", false), Err(AnswerError::CapsStart { found: b'x' }));
    assert_eq!(parse_caps(b"#u", false), Err(AnswerError::CapsRange { offset: 1 }));
    assert!(matches!(parse_caps(b"##uD11X#", false), Err(AnswerError::CapsOverflow { .. })));
    assert_eq!(
        parse_caps(b"##uD11X#", true),
        Ok(vec![answer::CapsEntry { cmd: b'u', locale: b'D', values: vec![b"X".to_vec()] }])
    );
}

#[test]
fn status_examples() {
    // The three Q examples of the file and the status they mean.
    let lines = parse(&data("smart-protocol-status-and-capabilities.apc"));
    let a = answers(&lines);
    let qs: Vec<String> = a[&b'Q']
        .iter()
        .map(|raw| status_tokens(parse_status(&raw[..raw.len() - 2])).join(" "))
        .collect();
    let want: Vec<String> = lines
        .iter()
        .filter_map(|l| match l {
            Line::Expect(_, v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(qs, want);
    assert_eq!(status_tokens(0), ["OFF"]);
    assert_eq!(status_tokens(0xff).join(" "), "CAL TRIM BOOST OL OB OVER LB RB");
    assert_eq!(parse_status(b"0x1F"), 0x1f);
    assert_eq!(parse_status(b"-1"), 0xff);
}

#[test]
fn strtol_like_c() {
    assert_eq!(strtol(b"0327:", 10), 327);
    assert_eq!(strtol(b"  -12x", 10), -12);
    assert_eq!(strtol(b"x", 10), 0);
    assert_eq!(strtol(b"99999999999999999999", 10), i64::MAX);
    assert_eq!(strtol(b"0x", 16), 0);
    assert_eq!(strtol(b"ff", 16), 255);
}

#[test]
fn conversions_from_typical_results() {
    // E 336 h, j 0327: min, q 02 min, G O, and pass-through formats.
    assert_eq!(answer::convert(Format::Hours, b"336"), "1209600");
    assert_eq!(answer::convert(Format::Minutes, b"0327:"), "19620");
    assert_eq!(answer::convert(Format::Minutes, b"02"), "120");
    assert_eq!(answer::convert(Format::Reason, b"O"), "no transfers yet since turnon");
    assert_eq!(answer::convert(Format::Reason, b"Q"), "Q");
    assert_eq!(answer::convert(Format::Volt, b"118.3"), "118.3");
}

#[test]
fn command_set_shape() {
    assert_eq!(parse_command_set(b"3.!$%+?=#|.\x01ABC"), Ok(&b"\x01ABC"[..]));
    assert_eq!(parse_command_set(b"3.!$.ABC.xyz"), Ok(&b"ABC"[..]));
    assert_eq!(parse_command_set(b"3..AB"), Ok(&b"AB"[..]));
    for bad in [&b"NA"[..], b"33.a.b", b"3.a.", b"3.a.b.", b"3.a.b.c.d", b"x.a.b"] {
        assert_eq!(parse_command_set(bad), Err(AnswerError::CommandSetShape), "{bad:?}");
    }
}

#[test]
fn patterns_and_compat_lookup() {
    assert!(Pattern::TwoDotTwo.matches(b"24.50"));
    assert!(!Pattern::TwoDotTwo.matches(b"024.5"));
    assert!(Pattern::ThreeDotOne.matches(b"024.5"));
    assert!(Pattern::Firmware.matches(b"50.9.D"));
    assert!(!Pattern::Firmware.matches(b"GWD"));
    assert!(!Pattern::Firmware.matches(b"5.4.D.1"));
    assert_eq!(table::compat_lookup(b"4F").unwrap().firmware, b"set\x01");
    assert_eq!(table::compat_lookup(b"5.4.D").unwrap().model(), "Matrix-UPS");
    assert_eq!(table::compat_lookup(b"8QI").unwrap().model(), "Smart-UPS");
    assert!(table::compat_lookup(b"GWD").is_none());
    assert!(table::compat_lookup(b"451.2.I").is_none());
}
