//! Benchmarks of `nut-hid` on every complete report descriptor of
//! `nut-hid/tests/data` (real devices): descriptor parsing, decoding every field of
//! every report, the mapping engine's setup and init walk over the subdriver rows, and
//! its full walk (what `usbhid-ups` does at each full poll, minus the USB transfers).
//! See `README.md`, section "usbhid-ups".

use criterion::{Criterion, Throughput};
use nut_hid::mapping::{DeviceInfo, HidIo, IoError, Mapper, Options};
use nut_hid::{ReportDescriptor, ReportType};
use nut_proto::publish::Recorder;
use nut_testkit::hid::{HidFile, synth};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

/// One device: its descriptor and the reports a driver would read.
struct Device {
    name: String,
    file: HidFile,
    vendor_id: u16,
    product_id: u16,
}

fn devices() -> Vec<Device> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../nut-hid/tests/data");
    let mut v = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("nut-hid/tests/data")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hid"))
        .collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap();
        let file = HidFile::parse(&text);
        if file.header("kind") != Some("full-descriptor") {
            continue;
        }
        let usb = file.header("usb").unwrap_or("");
        let hex = |s: &str| u16::from_str_radix(s.get(..4).unwrap_or(""), 16).unwrap_or(0);
        let (vendor_id, product_id) = match usb.split_once(':') {
            Some((a, b)) => (hex(a), hex(b)),
            None => (hex(usb), 0),
        };
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        v.push(Device { name, file, vendor_id, product_id });
    }
    assert!(v.len() >= 40, "{} complete descriptors", v.len());
    v
}

/// The report bytes of every report ID: the logged ones, else fakeusb's synthetic
/// bytes, at NUT's report length.
fn reports(desc: &ReportDescriptor, file: &HidFile) -> Vec<Vec<u8>> {
    desc.nut_report_lens()
        .map(|(id, len)| {
            if let Some(r) = file.reports.get(&id).and_then(|l| l.first()) {
                let mut r = r.clone();
                r.resize(len, 0);
                return r;
            }
            let ids = desc.uses_report_ids();
            (0..len)
                .map(|i| if ids && i == 0 { id } else { synth(id, (i + usize::from(!ids)) as u32) })
                .collect()
        })
        .collect()
}

/// An in-memory device for the mapping engine: the same answers for every read.
struct Memory<'a> {
    desc: &'a ReportDescriptor,
    reports: &'a [Vec<u8>],
}

impl HidIo for Memory<'_> {
    fn get_report(&mut self, _: ReportType, id: u8, buf: &mut [u8]) -> Result<usize, IoError> {
        let i = self.desc.nut_report_lens().position(|(i, _)| i == id).ok_or(IoError::Failed)?;
        let r = &self.reports[i];
        let n = r.len().min(buf.len());
        buf[..n].copy_from_slice(&r[..n]);
        Ok(n)
    }
    fn set_report(&mut self, _: ReportType, _: u8, data: &[u8]) -> Result<usize, IoError> {
        Ok(data.len())
    }
    fn string(&mut self, index: u8) -> Result<String, IoError> {
        Ok(format!("str{index}"))
    }
}

fn bench(c: &mut Criterion) {
    let devs = devices();
    let total_bytes: usize = devs.iter().map(|d| d.file.descriptor.len()).sum();
    let parsed: Vec<ReportDescriptor> =
        devs.iter().map(|d| ReportDescriptor::parse(&d.file.descriptor).unwrap()).collect();
    let all_reports: Vec<Vec<Vec<u8>>> =
        devs.iter().zip(&parsed).map(|(d, p)| reports(p, &d.file)).collect();
    let total_fields: usize = parsed.iter().map(|p| p.fields().len()).sum();

    let mut g = c.benchmark_group("hid");
    g.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));

    // Every descriptor, parsed and validated.
    g.throughput(Throughput::Bytes(total_bytes as u64));
    g.bench_function(format!("descriptor_parse_all_{}", devs.len()), |b| {
        b.iter(|| {
            for d in &devs {
                black_box(ReportDescriptor::parse(black_box(&d.file.descriptor)).unwrap());
            }
        })
    });

    // Every field of every report of every descriptor, decoded to its physical value.
    g.throughput(Throughput::Elements(total_fields as u64));
    g.bench_function(format!("decode_all_fields_{total_fields}"), |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for (p, reps) in parsed.iter().zip(&all_reports) {
                for (i, (id, _)) in p.nut_report_lens().enumerate() {
                    let r = &reps[i];
                    for f in p.fields().iter().filter(|f| f.report_id == id) {
                        if let Ok(v) = f.value(black_box(r)) {
                            sum += v;
                        }
                    }
                }
            }
            black_box(sum)
        })
    });

    // The mapping engine's full walk over every device some subdriver claims: read
    // every kept item, convert and format it, publish it (values unchanged after the
    // first walk, as in a steady poll).
    // What the engine is told of a device, and the options (`productid` given, so
    // that every claimed device is served).
    let info_of = |d: &Device| DeviceInfo {
        vendor_id: d.vendor_id,
        product_id: d.product_id,
        vendor: None,
        product: None,
        serial: None,
    };
    let opts = Options { productid_set: true, ..Options::default() };
    let mut mappers = Vec::new();
    for ((d, p), reps) in devs.iter().zip(&parsed).zip(&all_reports) {
        let info = info_of(d);
        let Ok(mut m) = Mapper::new(&d.file.descriptor, &info, &opts) else { continue };
        let mut out = Recorder::new();
        let mut io = Memory { desc: p, reports: reps };
        if m.init(&mut io, &info, &mut out).is_ok() && m.update(&mut io, &mut out, true).is_ok() {
            mappers.push((d.name.as_str(), m, out, p, reps));
        }
    }
    let walked = mappers.len();

    // Setting up the engine for every device it walks: subdriver selection, the
    // descriptor parse and the init walk over the subdriver's rows (each row read back
    // from its packed table), with every item read once.
    let claimed: Vec<(&Device, &ReportDescriptor, &Vec<Vec<u8>>)> = devs
        .iter()
        .zip(&parsed)
        .zip(&all_reports)
        .filter(|((d, _), _)| mappers.iter().any(|m| m.0 == d.name))
        .map(|((d, p), r)| (d, p, r))
        .collect();
    g.throughput(Throughput::Elements(claimed.len() as u64));
    g.bench_function(format!("mapper_new_and_init_{}_devices", claimed.len()), |b| {
        b.iter(|| {
            for (d, p, reps) in &claimed {
                let info = info_of(d);
                let mut m = Mapper::new(&d.file.descriptor, &info, &opts).unwrap();
                let mut out = Recorder::new();
                let mut io = Memory { desc: p, reports: reps };
                black_box(m.init(&mut io, &info, &mut out).ok());
            }
        })
    });

    g.throughput(Throughput::Elements(walked as u64));
    g.bench_function(format!("mapper_full_walk_{walked}_devices"), |b| {
        b.iter(|| {
            for (_, m, out, p, reps) in mappers.iter_mut() {
                let mut io = Memory { desc: p, reports: reps };
                black_box(m.update(&mut io, out, true).ok());
            }
        })
    });
    g.finish();
    let names: Vec<&str> = mappers.iter().map(|m| m.0).collect();
    eprintln!("mapper_full_walk devices: {}", names.join(", "));
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
