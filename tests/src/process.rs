//! Child processes that never outlive the harness.

use std::process::Stdio;

use tokio::process::{Child, Command};

/// Makes `command` die with the harness: SIGKILL on drop, and the kernel's parent-death signal
/// for the case where the harness itself is killed.
pub fn tie_to_harness(command: &mut Command) -> &mut Command {
    command.kill_on_drop(true).stdin(Stdio::null());
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    command
}

/// Sends SIGKILL to a process id (no-op when it is gone).
pub fn kill_hard(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a pid we started; a stale pid at worst gets ESRCH.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Spawns `command` with both outputs appended to `log`.
pub fn spawn_logged(command: &mut Command, log: &std::path::Path) -> anyhow::Result<Child> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let err = out.try_clone()?;
    Ok(tie_to_harness(command)
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()?)
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A process's peak resident memory so far, in KiB (Linux `VmHWM`); `None` once it is gone or
/// where /proc is not there.
pub fn peak_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}
