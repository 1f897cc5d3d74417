//! `sluice-bench lambda OUT.json`: cold start, memory and trigger load
//! against moto and the JobManager recorder.
//! `sluice-bench sync OUT.json`: event -> Flink job id and sync speed on the
//! local stack.
//! `sluice-bench report DIR [--record BENCHMARKS.md WHEN COMMAND]`: prints
//! the table of the figures in DIR (and records it in BENCHMARKS.md).
//! Settings come from the environment that `infra/bench/run.sh` sets.

use std::path::Path;

use anyhow::bail;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["lambda", out] => sluice_bench::lambda::run(Path::new(out)).await,
        ["sync", out] => sluice_bench::sync::run(Path::new(out)).await,
        // How long reading and hashing a file takes (the trigger does it
        // with the runner jar on its first submission).
        ["probe-hash", path] => {
            for _ in 0..5 {
                let started = std::time::Instant::now();
                let bytes = tokio::fs::read(path).await?;
                let read = started.elapsed();
                let digest = {
                    use sha2::Digest as _;
                    sha2::Sha256::digest(&bytes)
                };
                println!(
                    "{} bytes: read {:.2} ms, read + SHA-256 {:.2} ms ({:x})",
                    bytes.len(),
                    read.as_secs_f64() * 1e3,
                    started.elapsed().as_secs_f64() * 1e3,
                    digest
                );
            }
            Ok(())
        }
        ["report", dir] => {
            print!("{}", sluice_bench::report::table(Path::new(dir)));
            Ok(())
        }
        ["report", dir, "--record", markdown, when, command] => {
            let dir = Path::new(dir);
            print!("{}", sluice_bench::report::table(dir));
            sluice_bench::report::record(dir, Path::new(markdown), when, command)
        }
        _ => bail!(
            "usage: sluice-bench lambda OUT.json | sync OUT.json | report DIR [--record BENCHMARKS.md WHEN COMMAND]"
        ),
    }
}
