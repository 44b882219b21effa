//! Runs a simulated day without the `hotline` binary (which needs the whole engine to build):
//!
//! `cargo run --release -p hotline-sim --example simulate -- [--preset shenzhen|small-city]
//!  [--strategy NAME|all] [--calls N] [--agents N] [--seed N]`

use std::process::ExitCode;

use hotline_sim::{run, SimConfig, Strategy};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = SimConfig::shenzhen();
    let mut strategies = vec![cfg.strategy];
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        let number = || {
            value
                .parse::<u64>()
                .map_err(|e| format!("{}: {e}", args[i]))
        };
        let r: Result<(), String> = match args[i].as_str() {
            "--preset" => match value.as_str() {
                "shenzhen" => Ok(()),
                "small-city" => {
                    cfg = SimConfig::small_city();
                    Ok(())
                }
                other => Err(format!("unknown preset `{other}`")),
            },
            "--strategy" if value == "all" => {
                strategies = Strategy::ALL.to_vec();
                Ok(())
            }
            "--strategy" => value
                .parse::<Strategy>()
                .map(|s| strategies = vec![s])
                .map_err(|e| e.to_string()),
            "--calls" => number().map(|n| cfg.calls = n as u32),
            "--agents" => number().map(|n| cfg.agents = n as u32),
            "--seed" => number().map(|n| cfg.seed = n),
            other => Err(format!("unknown argument `{other}`")),
        };
        if let Err(e) = r {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
        i += 2;
    }
    let mut clean = true;
    for strategy in strategies {
        let report = run(SimConfig {
            strategy,
            ..cfg.clone()
        });
        println!("{report}\n");
        clean &= report.violations.is_empty();
    }
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
