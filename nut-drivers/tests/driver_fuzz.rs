//! Fuzz-style checks of `.dev`/`.seq` parsing and of the driver socket
//! session: the committed dumps, mutated and mixed with garbage, never
//! panic, and memory stays bounded. Deterministic (a fixed xorshift seed).

use nut_driver::{Device, DeviceError, Driver, DriverConfig, Dstate, UpdateKind};
use nut_drivers::dummy::{MAX_FILE_LEN, Step, parse_script, set_dummy_var};
use std::path::Path;
use std::time::Instant;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ddl");
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    out.push(
        b"TIMER\nTIMER -5\nTIMER 99999999999999999999\nALARM\nALARM \"x\nups.status:\n:\n::\n"
            .to_vec(),
    );
    out.push(b"a: \"unterminated\n\\\n\"#\"\n".to_vec());
    out
}

fn mutate(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    for _ in 0..1 + rng.below(16) {
        let at = rng.below(d.len() + 1);
        match rng.below(5) {
            0 if !d.is_empty() && at < d.len() => d[at] = rng.next() as u8,
            1 => {
                const SPECIAL: &[u8] = b"\"\\#:\n \t\r\0\xff";
                d.insert(at, SPECIAL[rng.below(SPECIAL.len())]);
            }
            2 if at < d.len() => {
                d.truncate(at);
            }
            3 => {
                let n = rng.below(2000);
                d.splice(at..at, std::iter::repeat_n(b'x', n));
            }
            _ => d.extend_from_slice(b"\nTIMER 0\nups.status: OB LB\n"),
        }
    }
    d
}

/// Plays a parsed script into a state, as the device does.
fn play(steps: &[Step]) -> Dstate {
    let mut st = Dstate::new();
    for s in steps {
        match s {
            Step::Set { name, value } => {
                set_dummy_var(&mut st, name, value);
            }
            Step::Status(t) => {
                st.status_init();
                for t in t {
                    st.status_set(t);
                }
                st.status_commit();
            }
            Step::Alarm(Some(a)) => st.alarm_set(a),
            Step::Alarm(None) => st.alarm_init(),
            Step::Timer(_) => {}
        }
    }
    st
}

#[test]
fn script_parsing_never_panics_and_is_bounded() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let corpus = corpus();
    for round in 0..3000 {
        let base = &corpus[round % corpus.len()];
        let data = mutate(&mut rng, base);
        let script = parse_script(&data);
        // Every step comes from at least one byte of input.
        assert!(script.steps.len() <= data.len().min(MAX_FILE_LEN));
        for s in &script.steps {
            if let Step::Set { name, .. } = s {
                assert!(!name.starts_with("driver."));
                assert!(!name.contains(':'));
            }
        }
        let st = play(&script.steps);
        for (_, v) in st.tree().vars() {
            assert!(v.value.len() <= nut_driver::MAX_VALUE_LEN);
        }
    }
    // A huge file is cut, not read whole.
    let big = vec![b'a'; MAX_FILE_LEN * 2];
    assert!(parse_script(&big).steps.len() <= 1);
    // Splitting never matters: the parser sees whole files only, but the
    // same file parsed twice gives the same steps.
    for f in &corpus {
        assert_eq!(parse_script(f), parse_script(f));
    }
}

struct Null;

impl Device for Null {
    fn connect(&mut self, st: &mut Dstate, _: Instant) -> Result<(), DeviceError> {
        st.setinfo("ups.status", "OL");
        Ok(())
    }
    fn update(&mut self, _: &mut Dstate, _: UpdateKind, _: Instant) -> Result<(), DeviceError> {
        Ok(())
    }
}

#[test]
fn socket_sessions_survive_garbage() {
    let mut rng = Rng(42);
    let now = Instant::now();
    let mut config = DriverConfig::default();
    config.socket.max_output = 64 * 1024;
    let mut d = Driver::new(Null, Dstate::new(), config);
    d.start(now).unwrap();
    let seeds: &[&[u8]] = &[
        b"DUMPALL\n",
        b"PING\n",
        b"SET ups.status \"OB\" TRACKING x\n",
        b"INSTCMD load.off 1 TRACKING y\n",
        b"DUMPVALUE ups.status\n",
        b"BROADCAST 0\nBROADCAST 1\n",
    ];
    let mut c = d.accept();
    for _ in 0..5000 {
        let seed = seeds[rng.below(seeds.len())];
        let data = mutate(&mut rng, seed);
        let cut = rng.below(data.len() + 1);
        d.handle_conn_bytes(c, &data[..cut], now);
        d.handle_conn_bytes(c, &data[cut..], now);
        if let Some(out) = d.poll_transmit(c) {
            assert!(out.len() <= 64 * 1024);
            let n = rng.below(out.len() + 1);
            d.transmitted(c, n);
        }
        if d.close_reason(c).is_some() || rng.below(100) == 0 {
            d.handle_conn_closed(c);
            c = d.accept();
        }
    }
    assert!(d.conn_count() <= 1);
}
