//! Reader of the `.hid` test files (format: tests/data/README.md).
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use nut_hid::usage::tables;
use nut_hid::{ReportType, UsageTables};

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

#[derive(Debug, Default)]
pub struct HidFile {
    pub name: String,
    pub headers: Vec<(String, String)>,
    pub descriptor: Option<Vec<u8>>,
    pub head: Option<Vec<u8>>,
    pub tail: Option<Vec<u8>>,
    /// (how, id, bytes)
    pub reports: Vec<(String, u8, Vec<u8>)>,
    pub fields: Vec<FieldLine>,
}

#[derive(Debug, Clone)]
pub struct FieldLine {
    pub line: String,
    pub report_type: ReportType,
    pub report_id: u8,
    pub offset: u32,
    pub size: u32,
    pub value: f64,
    pub path: String,
    pub extras: Vec<(String, String)>,
}

impl FieldLine {
    pub fn extra(&self, key: &str) -> Option<&str> {
        self.extras.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

pub fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace().map(|b| u8::from_str_radix(b, 16).expect("hex byte")).collect()
}

impl HidFile {
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn load(name: &str) -> HidFile {
        let text = std::fs::read_to_string(data_dir().join(name)).expect("read .hid");
        let mut f = HidFile { name: name.to_string(), ..Default::default() };
        let mut section = String::new();
        let mut hexbuf: Vec<u8> = Vec::new();
        let flush = |f: &mut HidFile, section: &str, buf: &mut Vec<u8>| {
            let b = std::mem::take(buf);
            match section {
                "descriptor" => f.descriptor = Some(b),
                "descriptor-head" => f.head = Some(b),
                "descriptor-tail" => f.tail = Some(b),
                _ => {}
            }
        };
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                flush(&mut f, &section, &mut hexbuf);
                section = s.to_string();
                continue;
            }
            if section.is_empty() {
                if let Some((k, v)) = line.strip_prefix('@').and_then(|l| l.split_once(':')) {
                    f.headers.push((k.trim().to_string(), v.trim().to_string()));
                }
                continue;
            }
            match section.as_str() {
                "descriptor" | "descriptor-head" | "descriptor-tail" => hexbuf.extend(hex(line)),
                "reports" => {
                    let (left, bytes) = line.split_once(':').expect("report line");
                    let mut w = left.split_whitespace();
                    let how = w.next().unwrap().to_string();
                    let id = u8::from_str_radix(w.next().unwrap(), 16).unwrap();
                    f.reports.push((how, id, hex(bytes)));
                }
                "fields" => {
                    let mut w = line.split_whitespace();
                    let report_type = match w.next().unwrap() {
                        "Input" => ReportType::Input,
                        "Output" => ReportType::Output,
                        "Feature" => ReportType::Feature,
                        t => panic!("type {t}"),
                    };
                    let id = w.next().unwrap();
                    let report_id =
                        u8::from_str_radix(id.trim_start_matches("0x"), 16).expect("report id");
                    let offset = w.next().unwrap().parse().unwrap();
                    let size = w.next().unwrap().parse().unwrap();
                    let value = w.next().unwrap().parse().unwrap();
                    let path = w.next().unwrap().to_string();
                    let extras = w
                        .filter_map(|kv| kv.split_once('='))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    f.fields.push(FieldLine {
                        line: line.to_string(),
                        report_type,
                        report_id,
                        offset,
                        size,
                        value,
                        path,
                        extras,
                    });
                }
                _ => {}
            }
        }
        flush(&mut f, &section, &mut hexbuf);
        if f.descriptor.is_none() {
            if let Some(other) = f.header("same-descriptor-as") {
                f.descriptor = HidFile::load(other).descriptor;
            }
        }
        f
    }

    /// The first logged bytes of report `id` ([fields] values belong to it).
    pub fn first_report(&self, id: u8) -> Option<&[u8]> {
        self.reports.iter().find(|(how, i, _)| *i == id && how != "err").map(|(_, _, b)| &b[..])
    }

    pub fn vendor_id(&self) -> Option<u16> {
        let usb = self.header("usb")?;
        u16::from_str_radix(usb.get(..4)?, 16).ok()
    }

    pub fn product_id(&self) -> Option<u16> {
        let usb = self.header("usb")?;
        u16::from_str_radix(usb.get(5..9)?, 16).ok()
    }

    /// The usage tables of the NUT 2.8.0 subdriver that claims this vendor.
    pub fn tables(&self) -> UsageTables {
        let t = UsageTables::standard();
        match self.vendor_id() {
            Some(0x051d) => t.with(tables::APC),
            Some(0x0463 | 0x047c | 0x0592 | 0x03f0 | 0x2b2d | 0x04b3) => {
                // The Eaton 3S log comes from a NUT later than 2.8.0.
                t.with(tables::MGE).with(tables::MGE_AFTER_2_8_0)
            }
            Some(0x050d | 0x10af) => t.with(tables::BELKIN),
            Some(0x0d9f) => t.with(tables::POWERCOM),
            Some(0x09ae) => t.with(tables::TRIPPLITE),
            _ => t,
        }
    }
}

pub fn all_files() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".hid"))
        .collect();
    v.sort();
    v
}
