//! upsmon's privilege separation across real processes: this test binary
//! runs itself again as the child (the `child_*` tests do nothing unless
//! they are that child), as the `upsmon` binary does.

use nut_clients::upsmon_os::{ChildLink, DropTo, ParentExit, ParentLink, ShutdownPlan, pdflag};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);
const EVERY: Duration = Duration::from_millis(20);

/// The child's link and output directory, when this process is the child
/// started for test `name`.
fn as_child(name: &str) -> Option<(ChildLink, PathBuf)> {
    let link = ChildLink::from_env()?.expect("standard input is the parent's socket");
    if std::env::var("TEST_CHILD").ok()? != name {
        return None;
    }
    let out = PathBuf::from(std::env::var_os("TEST_OUT").expect("TEST_OUT"));
    let groups: Vec<u32> =
        nix::unistd::getgroups().unwrap_or_default().iter().map(|g| g.as_raw()).collect();
    std::fs::write(
        out.join("child-id"),
        format!("{} {} {:?}", nix::unistd::getuid(), nix::unistd::getgid(), groups),
    )
    .expect("write child-id");
    Some((link, out))
}

#[test]
fn child_shutdown() {
    if let Some((mut link, _)) = as_child("child_shutdown") {
        assert!(link.parent_alive());
        link.request_shutdown().expect("request shutdown");
    }
}

#[test]
fn child_exit() {
    let _ = as_child("child_exit");
}

#[test]
fn child_watch_parent() {
    if let Some((link, out)) = as_child("child_watch_parent") {
        assert!(nut_testkit::wait_until(DEADLINE, EVERY, || !link.parent_alive()));
        std::fs::write(out.join("parent-gone"), "").unwrap();
    }
}

fn spawn(test: &str, out: &Path, drop_to: Option<DropTo>) -> ParentLink {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", test, "--test-threads=1", "--quiet"])
        .env("TEST_CHILD", test)
        .env("TEST_OUT", out)
        .stdout(std::process::Stdio::null());
    ParentLink::spawn_command(cmd, drop_to).expect("spawn child")
}

fn plan(dir: &Path) -> ShutdownPlan {
    ShutdownPlan {
        powerdownflag: Some(dir.join("killpower")),
        shutdowncmd: Some(format!("echo ran >> {}", dir.join("shutdown-ran").display())),
    }
}

#[test]
fn parent_runs_shutdown_when_child_asks() {
    if ChildLink::from_env().is_some() {
        return;
    }
    let dir = nut_testkit::temp_dir();
    let link = spawn("child_shutdown", dir.path(), None);
    assert_eq!(link.run(&plan(dir.path())), ParentExit::Shutdown);
    assert_eq!(std::fs::read(dir.path().join("killpower")).unwrap(), pdflag::MAGIC);
    assert_eq!(std::fs::read_to_string(dir.path().join("shutdown-ran")).unwrap(), "ran\n");
    assert_eq!(pdflag::check(Some(&dir.path().join("killpower"))), 0);
}

#[test]
fn parent_exits_when_child_exits() {
    if ChildLink::from_env().is_some() {
        return;
    }
    let dir = nut_testkit::temp_dir();
    let link = spawn("child_exit", dir.path(), None);
    let exit = link.run(&plan(dir.path()));
    assert_eq!((exit, exit.code()), (ParentExit::ChildExited, 1));
    assert!(dir.path().join("child-id").exists(), "the child ran");
    assert!(!dir.path().join("shutdown-ran").exists());
    assert!(!dir.path().join("killpower").exists());
}

#[test]
fn child_sees_parent_gone() {
    if ChildLink::from_env().is_some() {
        return;
    }
    let dir = nut_testkit::temp_dir();
    let link = spawn("child_watch_parent", dir.path(), None);
    assert!(nut_testkit::wait_until(DEADLINE, EVERY, || dir.path().join("child-id").exists()));
    let mut child = link.abandon();
    assert!(nut_testkit::wait_until(DEADLINE, EVERY, || dir.path().join("parent-gone").exists()));
    assert!(child.wait().unwrap().success());
}

#[test]
fn child_runs_as_nobody_without_groups() {
    if ChildLink::from_env().is_some() {
        return;
    }
    assert!(nix::unistd::geteuid().is_root(), "this test needs root (as in CI)");
    let nobody = nut_clients::upsmon_os::lookup_user("nobody").expect("user nobody");
    let dir = nut_testkit::temp_dir();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let link = spawn("child_shutdown", dir.path(), Some(nobody));
    // The root parent runs SHUTDOWNCMD as root.
    let p = ShutdownPlan {
        powerdownflag: None,
        shutdowncmd: Some(format!("id -u > {}", dir.path().join("shutdown-uid").display())),
    };
    assert_eq!(link.run(&p), ParentExit::Shutdown);
    let id = std::fs::read_to_string(dir.path().join("child-id")).unwrap();
    assert_eq!(id, format!("{} {} []", nobody.uid, nobody.gid));
    assert_eq!(std::fs::read_to_string(dir.path().join("shutdown-uid")).unwrap(), "0\n");
}
