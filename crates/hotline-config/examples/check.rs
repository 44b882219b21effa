//! Checks configuration files: `cargo run -p hotline-config --example check -- FILE...`.
fn main() {
    let mut failed = false;
    for path in std::env::args().skip(1) {
        match hotline_config::Config::load(&path) {
            Ok(_) => println!("{path}: ok"),
            Err(e) => {
                failed = true;
                println!("{e}");
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
