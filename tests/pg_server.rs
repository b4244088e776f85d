//! A throwaway PostgreSQL server from Debian's packages, on 127.0.0.1
//! with a free port and a temporary data directory, stopped and removed
//! when dropped, even when a check fails. The SQL tests use it, and `make
//! bench` (crates/cli/examples/bench.rs includes this file) times a load
//! into it.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

/// A PostgreSQL server of our own; dropping it stops it and removes its
/// directory.
pub struct Server {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

fn postgres_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").is_file() && b.join("pg_ctl").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

impl Server {
    /// `initdb` and `pg_ctl` refuse to run as root: as root they run as
    /// the `postgres` user, who then owns the directory.
    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    /// A server for a test: without the binaries, `None` (skipped)
    /// locally and a failure in CI.
    pub fn start(tag: &str) -> Option<Server> {
        let server = Server::start_if_installed(tag);
        if server.is_none() {
            assert!(
                std::env::var_os("CI").is_none(),
                "PostgreSQL server binaries missing in CI: .ci/setup installs them"
            );
            eprintln!("skipped: no PostgreSQL server binaries (apt-get install postgresql)");
        }
        server
    }

    /// A server, or `None` without Debian's server binaries.
    pub fn start_if_installed(tag: &str) -> Option<Server> {
        let bin = postgres_bin()?;
        let root = Command::new("id").arg("-u").output().expect("id -u");
        let as_postgres = String::from_utf8_lossy(&root.stdout).trim() == "0";
        let dir = std::env::temp_dir().join(format!("crew-mrv-pg-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        if as_postgres {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown")
                .success();
            assert!(ok, "chown postgres {}", dir.display());
        }
        // A port free now; the server takes it a moment later.
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("port")
            .port();
        let server = Server {
            bin,
            dir,
            port,
            as_postgres,
        };
        let data = server.dir.join("data");
        let init = server
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"])
            .args(["--locale=C.UTF-8"])
            .output()
            .expect("initdb");
        assert!(
            init.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            server.port,
            server.dir.display()
        );
        let start = server
            .command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(server.dir.join("log"))
            .args(["-w", "-t", "30", "-o", &opts, "start"])
            .output()
            .expect("pg_ctl start");
        assert!(
            start.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&start.stdout),
            std::fs::read_to_string(server.dir.join("log")).unwrap_or_default()
        );
        Some(server)
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// psql on `db`, unaligned and tab-separated; panics on failure.
    pub fn psql(&self, db: &str, args: &[&str]) -> String {
        let o = Command::new("psql")
            .args(["-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1"])
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-d", db])
            .args(args)
            .output()
            .expect("psql");
        assert!(
            o.status.success(),
            "psql {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    pub fn query(&self, db: &str, sql: &str) -> String {
        self.psql(db, &["-c", sql])
            .trim_end_matches('\n')
            .to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
