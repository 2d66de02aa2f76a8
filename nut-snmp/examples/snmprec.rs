//! Prints what NUT 2.8.0's snmp-ups would publish for snmprec recordings:
//! `cargo run -p nut-snmp --example snmprec -- [--mibs NAME] FILE...`
use nut_proto::publish::Recorder;

fn main() {
    let mut mibs = String::from("auto");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--mibs" {
            mibs = args.next().unwrap_or_else(|| "auto".into());
            continue;
        }
        let bytes = match std::fs::read(&a) {
            Ok(b) => b,
            Err(e) => {
                println!("== {a}: {e}");
                continue;
            }
        };
        let (mut agent, errors) =
            nut_snmp::snmprec::parse_lenient(&String::from_utf8_lossy(&bytes));
        for e in &errors {
            println!("# {a}: {e}");
        }
        match nut_snmp::detect(&mut agent, &mibs) {
            Ok(m) => {
                println!("== {a}: {} ({})", m.name, m.version_data());
                let mut r = Recorder::new();
                nut_snmp::publish_snapshot(m, &mut agent, &mut r);
                print!("{}", r.upsc());
                println!("# commands: {}", r.commands().join(" "));
            }
            Err(e) => println!("== {a}: {e}"),
        }
    }
}
