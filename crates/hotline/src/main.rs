//! The `hotline` binary: reads the configuration, runs the switch, stops gracefully on SIGTERM.
//! Also a few offline tools: `check-config`, `simulate`, `sos import`.

mod generate;
mod sos_import;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hotline_config::Config;

const DEFAULT_CONFIG: &str = "config/hotline.toml";

#[derive(Parser)]
#[command(
    name = "hotline",
    version,
    about = "Hotline call-center engine (12345 政务服务便民热线)"
)]
struct Cli {
    /// Configuration file (default: config/hotline.toml, or the embedded default when that is absent).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the engine (the default).
    Run,
    /// Validate a configuration file; prints FILE:LINE: KEY: why and exits 1 when invalid.
    CheckConfig,
    /// Replay a synthetic day against the ACD in virtual time; exits 1 if an invariant broke.
    Simulate {
        /// Scenario: shenzhen (60,000 calls, 700 agents) or small-city (10,000 calls, 60 agents).
        #[arg(long, value_enum, default_value = "shenzhen")]
        preset: Preset,
        /// Expected number of calls over the day.
        #[arg(long)]
        calls: Option<u32>,
        #[arg(long)]
        agents: Option<u32>,
        #[arg(long)]
        seed: Option<u64>,
        /// Queue strategy: longest-idle, round-robin, ring-all, fewest-calls, least-talk-time or random.
        #[arg(long)]
        strategy: Option<hotline_sim::Strategy>,
    },
    /// The SOS handset registry (一键通).
    Sos {
        #[command(subcommand)]
        command: SosCommand,
    },
    /// The tamper-evident audit log of ticket changes.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Synthetic tickets and KPI reports (benchmarks, load tests).
    Tickets {
        #[command(subcommand)]
        command: generate::TicketsCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walks the hash chain of the configured database from the first event; prints the count and the last
    /// hash (note it: it is the anchor for the next check) and exits 0, or names the first broken event and
    /// exits 1.
    Verify {
        /// Anchors noted earlier, as SEQ:HASH; the chain must still hold them.
        #[arg(long = "anchor")]
        anchors: Vec<String>,
    },
}

#[derive(Subcommand)]
enum SosCommand {
    /// Create or update devices from a CSV file (UTF-8, header row; see docs/sos.md) into the
    /// configured database, all or nothing; prints FILE:LINE: column: why and exits 1 when invalid.
    Import {
        file: PathBuf,
        /// Check the file only; the database is not touched.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Preset {
    Shenzhen,
    SmallCity,
}

fn simulate(
    preset: Preset,
    calls: Option<u32>,
    agents: Option<u32>,
    seed: Option<u64>,
    strategy: Option<hotline_sim::Strategy>,
) -> ExitCode {
    let mut cfg = match preset {
        Preset::Shenzhen => hotline_sim::SimConfig::shenzhen(),
        Preset::SmallCity => hotline_sim::SimConfig::small_city(),
    };
    cfg.calls = calls.unwrap_or(cfg.calls);
    cfg.agents = agents.unwrap_or(cfg.agents);
    cfg.seed = seed.unwrap_or(cfg.seed);
    cfg.strategy = strategy.unwrap_or(cfg.strategy);
    let report = hotline_sim::run(cfg);
    println!("{report}");
    if report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn load(path: Option<&Path>) -> Result<Config, String> {
    match path {
        Some(p) => Config::load(p).map_err(|e| e.to_string()),
        None if Path::new(DEFAULT_CONFIG).exists() => {
            Config::load(Path::new(DEFAULT_CONFIG)).map_err(|e| e.to_string())
        }
        None => Config::embedded_default().map_err(|e| e.to_string()),
    }
}

/// `hotline sos import FILE [--dry-run]`.
fn sos_import(config: &Config, file: &Path, dry_run: bool) -> ExitCode {
    let name = file.display();
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::from(1);
        }
    };
    let text = match sos_import::decode(&bytes) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::from(1);
        }
    };
    // Check the file before opening the database: a bad file never touches it.
    match sos_import::parse(text) {
        Err(errors) => {
            for e in &errors {
                eprintln!("{name}:{e}");
            }
            eprintln!("{name}: {} problem(s); nothing imported", errors.len());
            return ExitCode::from(1);
        }
        // Validation only: the database is not even opened (or created, or migrated).
        Ok(devices) if dry_run => {
            println!(
                "{name}: OK, {} devices; dry run, nothing imported",
                devices.len()
            );
            return ExitCode::SUCCESS;
        }
        Ok(_) => {}
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        let store = match hotline_tickets::TicketStore::connect(&config.database.url).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("database: {e}");
                return ExitCode::from(1);
            }
        };
        let result = sos_import::import(&store, text).await;
        store.close().await;
        match result {
            Ok(r) => {
                println!("{r}");
                ExitCode::SUCCESS
            }
            Err(sos_import::ImportError::Rows(errors)) => {
                for e in &errors {
                    eprintln!("{name}:{e}");
                }
                ExitCode::from(1)
            }
            Err(sos_import::ImportError::Store(e)) => {
                eprintln!("{name}: nothing imported: {e}");
                ExitCode::from(1)
            }
        }
    })
}

/// `hotline audit verify [--anchor SEQ:HASH]...`.
fn audit_verify(config: &Config, anchors: &[String]) -> ExitCode {
    let mut parsed = Vec::new();
    for a in anchors {
        match a
            .split_once(':')
            .and_then(|(s, h)| Some((s.parse::<u64>().ok()?, h)))
        {
            Some((seq, hash)) if hash.len() == 64 => parsed.push(hotline_audit::Anchor {
                seq,
                hash: hash.to_ascii_lowercase(),
            }),
            _ => {
                eprintln!("--anchor {a}: expected SEQ:HASH (a number, a colon, 64 hex digits)");
                return ExitCode::from(2);
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        let store = match hotline_tickets::TicketStore::connect(&config.database.url).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("database: {e}");
                return ExitCode::from(1);
            }
        };
        let result = store.verify_audit(parsed).await;
        store.close().await;
        match result {
            Err(e) => {
                eprintln!("audit: {e}");
                ExitCode::from(1)
            }
            Ok(v) => {
                if let Some(e) = &v.error {
                    println!("audit chain BROKEN at event {}: {:?}", e.seq, e.kind);
                }
                if let Some(m) = &v.head_mismatch {
                    println!("audit chain BROKEN: {m}");
                }
                if let Some(r) = &v.report {
                    println!(
                        "audit chain OK: {} events; last seq {} hash {}",
                        r.count, r.last_seq, r.last_hash
                    );
                }
                if v.ok() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
        }
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The simulator needs no configuration file.
    if let Some(Command::Simulate {
        preset,
        calls,
        agents,
        seed,
        strategy,
    }) = cli.command
    {
        return simulate(preset, calls, agents, seed, strategy);
    }
    if let Some(Command::Tickets { command }) = &cli.command {
        if let Some(url) = command.database() {
            return generate::run(command, url);
        }
    }
    let config = match load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if let Some(Command::CheckConfig) = cli.command {
        println!("configuration OK");
        return ExitCode::SUCCESS;
    }
    if let Some(Command::Sos {
        command: SosCommand::Import { file, dry_run },
    }) = &cli.command
    {
        return sos_import(&config, file, *dry_run);
    }
    if let Some(Command::Audit {
        command: AuditCommand::Verify { anchors },
    }) = &cli.command
    {
        return audit_verify(&config, anchors);
    }
    if let Some(Command::Tickets { command }) = &cli.command {
        return generate::run(command, &config.database.url);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(hotline_switch::run(config, shutdown_signal()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotline: {e}");
            ExitCode::from(1)
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
