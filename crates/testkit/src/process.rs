//! [`Proc`]: a child process in its own process group, killed with the group on
//! drop. Signals go by system call: procps-ng's `kill` program (4.0) reads
//! `kill -KILL -12345` as pid -1, every process the caller may signal.

use std::process::{Child, Command};

/// A child process killed (with its process group) on drop.
pub struct Proc {
    child: Child,
    pub name: String,
    /// The group was killed: never signal its id again (it may be reused).
    killed: bool,
}

impl Proc {
    pub fn spawn(name: &str, mut cmd: Command) -> std::io::Result<Proc> {
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd.spawn()?;
        Ok(Proc {
            child,
            name: name.to_string(),
            killed: false,
        })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Sends a signal (a name such as `TERM` or `HUP`) to the process (not its group).
    /// Panics on a name it does not know.
    pub fn signal(&self, sig: &str) {
        #[cfg(unix)]
        {
            let sig = signal_named(sig);
            if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
                let _ = rustix::process::kill_process(pid, sig);
            }
        }
    }

    /// Stops the whole process group now.
    pub fn kill(&mut self) {
        if std::mem::replace(&mut self.killed, true) {
            return;
        }
        // By system call, not the `kill` program: procps-ng's kill (4.0) reads
        // `kill -KILL -12345` as pid -1 and `kill -s KILL -- -12` as nothing,
        // so the first kills every process the caller may signal.
        #[cfg(unix)]
        if let Some(pgid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(unix)]
fn signal_named(name: &str) -> rustix::process::Signal {
    use rustix::process::Signal;
    match name.trim_start_matches("SIG") {
        "TERM" => Signal::TERM,
        "HUP" => Signal::HUP,
        "INT" => Signal::INT,
        "QUIT" => Signal::QUIT,
        "KILL" => Signal::KILL,
        "USR1" => Signal::USR1,
        "USR2" => Signal::USR2,
        "STOP" => Signal::STOP,
        "CONT" => Signal::CONT,
        other => panic!("unknown signal name {other}"),
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    #[cfg(unix)]
    fn kill_stops_the_group_and_only_the_group() {
        // A shell with a grandchild in its group, and a bystander outside it.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 300 & wait"]);
        let mut group = Proc::spawn("group", cmd).expect("sh");
        let mut bystander = Proc::spawn("bystander", {
            let mut c = Command::new("sleep");
            c.arg("300");
            c
        })
        .expect("sleep");
        std::thread::sleep(Duration::from_millis(200));
        let pgid = group.id();
        group.kill();
        assert!(group.exited());
        // Signal 0 to the group fails once no process of it is left.
        let pgid = rustix::process::Pid::from_raw(pgid as i32).expect("pid");
        let deadline = Instant::now() + Duration::from_secs(5);
        while rustix::process::test_kill_process_group(pgid).is_ok() {
            assert!(Instant::now() < deadline, "group {pgid} still alive");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            !bystander.exited(),
            "a process outside the group was killed"
        );
        bystander.kill();
    }
}
